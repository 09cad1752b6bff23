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

// TestTallyLogSpreadFormat: SQLite submits log the full cell only
// (format 2), and decoding spreads the counts over the cell's marginals;
// the same change logged spread already (format 1, rows left from before
// the upgrade) decodes to the same, and a row may hold both.
func TestTallyLogSpreadFormat(t *testing.T) {
	c := cell{"female", "ngo", "KE"}
	four := 4.0
	rows := []SubmittedAnswer{{QuestionID: 11, Value: "yes"}, {QuestionID: 12, RowKey: "water", Value: "no"}, {QuestionID: 13, Value: "4", Num: &four}}
	kinds := map[int64]string{11: QYesNo, 12: QMatrixYesNo, 13: QNumber}
	spread, later := newTallyDeltas(7), newTallyDeltas(7)
	later.fullOnly, later.spreadLater = true, true
	for _, d := range []*tallyDeltas{spread, later} {
		d.addCell(3, c, 1)
		d.addRows(3, c, rows, kinds, 1)
	}
	if len(later.answers[3]) != 3 || len(spread.answers[3]) != 15 {
		t.Fatalf("answer keys: %d logged for later, %d spread (want 3 and 15)", len(later.answers[3]), len(spread.answers[3]))
	}
	if raw1, raw2 := spread.encode(), later.encode(); raw2[0] != tallyLogSpread || raw1[0] != tallyLogFormat || len(raw2)*3 > len(raw1) {
		t.Fatalf("formats %d and %d, %d and %d bytes", raw1[0], raw2[0], len(raw1), len(raw2))
	}
	decoded := func(ds ...*tallyDeltas) *tallyDeltas {
		t.Helper()
		b := tallyLog{}
		for _, d := range ds {
			b.add(d)
		}
		sum := tallyBatch{}
		if err := sum.decode(7, b[7]); err != nil {
			t.Fatal(err)
		}
		return sum[7]
	}
	one, two := decoded(spread), decoded(later)
	if !reflect.DeepEqual(one.cells, two.cells) || !reflect.DeepEqual(one.answers, two.answers) || !reflect.DeepEqual(one.answered, two.answered) {
		t.Fatalf("format 2 decoded to %+v, format 1 to %+v", two, one)
	}
	both := decoded(spread, later)
	if n := both.answers[3][answerKey{13, "", "", cell{Any, Any, "KE"}}]; n.count != 2 || n.total != 8 {
		t.Fatalf("a row of both formats: number under (*,*,KE) = %+v, want 2 and 8", n)
	}
	// A direct write (outside a batch) spreads first.
	direct, err := later.spread()
	if err != nil || !reflect.DeepEqual(direct.answers, one.answers) || !reflect.DeepEqual(direct.answered, one.answered) {
		t.Fatalf("spread: %v, %+v", err, direct)
	}
}
