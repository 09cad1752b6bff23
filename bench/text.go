package bench

import (
	"math"
	"math/rand/v2"
	"strings"
)

// Open text in the scripts of the six UN languages (Latin for English,
// French and Spanish; Cyrillic; Arabic; Chinese), of realistic length: a
// log-normal number of words with a median of about 40 and a long tail.

var latinWords = strings.Fields(`policy services community harm reduction treatment prevention
health access evidence people support programme national local government funding stigma
training youth families outreach prison law enforcement data research recovery care
services santé prévention accès politique communauté soutien traitement données jeunesse
familles formation recherche salud prevención acceso política comunidad apoyo tratamiento
datos juventud familias formación investigación the of and to in that is for with on we our
our have been has more need needs should would could better also however because while`)

var cyrillicWords = strings.Fields(`политика услуги сообщество снижение вреда лечение профилактика
здоровье доступ данные люди поддержка программа национальный местный правительство
финансирование стигма обучение молодежь семьи исследование помощь и в на что для с мы
наши было более нужно следует также однако потому`)

var arabicWords = strings.Fields(`السياسة الخدمات المجتمع الحد من الضرر العلاج الوقاية الصحة
الوصول الأدلة الناس الدعم البرنامج الوطني المحلي الحكومة التمويل الوصمة التدريب الشباب
الأسر البحث الرعاية في و على أن من مع نحن يجب أيضا لكن لأن`)

var chinesePhrases = strings.Fields(`政策 服务 社区 减少危害 治疗 预防 健康 获得 证据 人们 支持 项目
国家 地方 政府 资金 污名 培训 青年 家庭 研究 照护 我们 需要 应该 更多 但是 因为 并且 的 和 在`)

// Script names the writing system of a generated text.
type Script int

const (
	Latin Script = iota
	Cyrillic
	Arabic
	Chinese
)

// pickScript spreads texts over the scripts: 55 % Latin, 15 % each other.
func pickScript(r *rand.Rand) Script {
	switch x := r.IntN(100); {
	case x < 55:
		return Latin
	case x < 70:
		return Cyrillic
	case x < 85:
		return Arabic
	default:
		return Chinese
	}
}

// wordCount draws a log-normal length: median ~40 words, 1 to 1500.
func wordCount(r *rand.Rand, median float64) int {
	n := int(math.Exp(math.Log(median) + 0.9*r.NormFloat64()))
	return min(max(n, 1), 1500)
}

// Text returns an open answer of about words words in script s.
func Text(r *rand.Rand, s Script, words int) string {
	var list []string
	sep := " "
	switch s {
	case Cyrillic:
		list = cyrillicWords
	case Arabic:
		list = arabicWords
	case Chinese:
		list, sep = chinesePhrases, ""
	default:
		list = latinWords
	}
	var b strings.Builder
	b.Grow(words * 9)
	for i := 0; i < words; i++ {
		if i > 0 {
			if i%14 == 0 {
				if s == Chinese {
					b.WriteString("。")
				} else {
					b.WriteString(". ")
				}
			} else if i%5 == 0 && s == Chinese {
				b.WriteString("，")
			} else {
				b.WriteString(sep)
			}
		}
		b.WriteString(list[r.IntN(len(list))])
	}
	if s == Chinese {
		b.WriteString("。")
	} else {
		b.WriteString(".")
	}
	return b.String()
}

var givenNames = []string{"Amina", "Olga", "Wei", "Carlos", "Fatima", "Jean", "Ana", "Ivan", "Li", "Nadia", "Omar", "Sofia", "Kwame", "Priya", "Lucas", "Mei", "Youssef", "Elena"}
var familyNames = []string{"Haddad", "Ivanova", "Zhang", "García", "Okafor", "Dubois", "Silva", "Petrov", "Chen", "Mansour", "Kowalski", "Mensah", "Sharma", "Rossi", "Nguyen", "Müller"}

func personName(r *rand.Rand) string {
	return givenNames[r.IntN(len(givenNames))] + " " + familyNames[r.IntN(len(familyNames))]
}
