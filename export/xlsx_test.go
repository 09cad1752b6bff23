package export_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"focalpoint/export"
	"focalpoint/models"
)

// The hand-written workbook reads back cell for cell: XML escaping, the
// characters XML cannot carry, numbers as numbers (not NaN), text that
// looks like a formula neutralised, the cell limit, the frozen header.
func TestXLSXCells(t *testing.T) {
	cols := []models.ExportColumn{{Name: "text", Type: models.ColString}, {Name: "n", Type: models.ColInteger},
		{Name: "x", Type: models.ColNumber}, {Name: "=bad", Type: models.ColString}}
	var buf bytes.Buffer
	w, err := export.New(export.XLSX, &buf, cols, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 40000)
	rows := [][]string{
		{"a<b & \"c\" > d\nline", "42", "2.5", "=SUM(A1)"},
		{"ctrl\x01\x1f end", "x7", "NaN", ""},
		{long, "", "-3", "Ωмир中文"},
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), ","); got != "data,codebook" {
		t.Fatalf("sheets %s", got)
	}
	got, err := f.GetRows(export.DataSheet)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"text", "n", "x", "'=bad"},
		{"a<b & \"c\" > d\nline", "42", "2.5", "'=SUM(A1)"},
		{"ctrl\uFFFD\uFFFD end", "x7", "NaN"},
		{strings.Repeat("é", 32767), "", "-3", "Ωмир中文"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i+1, got[i], want[i])
		}
	}
	for ref, typ := range map[string]excelize.CellType{"B2": excelize.CellTypeNumber, "C2": excelize.CellTypeNumber, "C4": excelize.CellTypeNumber,
		"C3": excelize.CellTypeInlineString, "A2": excelize.CellTypeInlineString} {
		got, _ := f.GetCellType(export.DataSheet, ref)
		if typ == excelize.CellTypeNumber && got == excelize.CellTypeUnset {
			got = typ // a cell without t="…" is a number
		}
		if got != typ {
			t.Errorf("%s has type %v, want %v", ref, got, typ)
		}
		if fm, _ := f.GetCellFormula(export.DataSheet, ref); fm != "" {
			t.Errorf("%s holds a formula %q", ref, fm)
		}
	}
	if p, err := f.GetPanes(export.DataSheet); err != nil || !p.Freeze || p.YSplit != 1 {
		t.Errorf("header not frozen: %+v %v", p, err)
	}
	cb, err := f.GetRows(export.CodebookSheet)
	if err != nil || len(cb) != len(cols)+1 || cb[4][0] != "'=bad" {
		t.Errorf("codebook %q %v", cb, err)
	}
}
