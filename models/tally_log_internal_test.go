package models

import (
	"reflect"
	"testing"
)

// TestTallyLogRoundTrip: a logged batch decodes to the same changes,
// whatever the values hold, and a damaged entry is refused.
func TestTallyLogRoundTrip(t *testing.T) {
	d := newTallyDeltas(7)
	c := cell{"female", "ngo", "KE"}
	odd := cell{"prefer_not_to_say", "a\x00b\"'\n", "中文🙂"}
	d.addCell(3, c, 2)
	d.addCell(0, odd, -1)
	d.ensureRound(3)
	d.answers[3][answerKey{11, "", "yes", c}] = tallyDelta{count: 4}
	d.answers[3][answerKey{12, "row\x1f", "", odd}] = tallyDelta{count: -1, total: -2.75}
	d.answered[3][answeredKey{11, "", c}] = 5
	raw := d.encode()
	b := tallyBatch{}
	if err := b.decode(7, raw); err != nil {
		t.Fatal(err)
	}
	got := b[7]
	if !reflect.DeepEqual(got.cells, d.cells) || !reflect.DeepEqual(got.answers, d.answers) || !reflect.DeepEqual(got.answered, d.answered) {
		t.Fatalf("decoded %+v, want %+v", got, d)
	}
	for _, bad := range [][]byte{nil, {9}, raw[:len(raw)-1], append(append([]byte{}, raw...), 0)} {
		if err := (tallyBatch{}).decode(7, bad); err == nil {
			t.Fatalf("damaged entry %q accepted", bad)
		}
	}
}

// TestTallyLogRowOfSeveralEntries: a batch appends its writes' entries one
// after the other in one row; decoding it adds them up.
func TestTallyLogRowOfSeveralEntries(t *testing.T) {
	c := cell{"female", "ngo", "KE"}
	one, two := newTallyDeltas(7), newTallyDeltas(7)
	one.addCell(3, c, 1)
	one.ensureRound(3)
	one.answers[3][answerKey{11, "", "yes", c}] = tallyDelta{count: 1}
	two.addCell(3, c, 1)
	two.ensureRound(3)
	two.answers[3][answerKey{11, "", "yes", c}] = tallyDelta{count: 1}
	two.answers[3][answerKey{11, "", "no", c}] = tallyDelta{count: -1}
	b := tallyLog{}
	b.add(one)
	two.encoded = two.encode()
	b.add(two)
	sum := tallyBatch{}
	if err := sum.decode(7, b[7]); err != nil {
		t.Fatal(err)
	}
	got := sum[7]
	if got.cells[[2]int64{3, 0}][c] != 2 || got.answers[3][answerKey{11, "", "yes", c}].count != 2 || got.answers[3][answerKey{11, "", "no", c}].count != -1 {
		t.Fatalf("decoded %+v", got)
	}
}
