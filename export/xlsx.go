package export

import (
	"archive/zip"
	"bufio"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"focalpoint/anonymize"
	"focalpoint/models"
)

// XLSX ------------------------------------------------------------------
//
// The workbook is written by hand, straight into the zip entries on the
// response: the data sheet's rows are deflated and sent as they come, so
// memory stays flat whatever the row count (excelize's Write built the
// whole file in memory, and its stream writer kept up to 16 MiB of rows
// before a temporary file). Strings are inline strings, numbers numbers;
// a formula is never written.

// DataSheet and CodebookSheet name the two sheets of an XLSX export.
const (
	DataSheet     = "data"
	CodebookSheet = "codebook"
)

// maxCellChars is how many characters a spreadsheet cell holds.
const maxCellChars = 32767

type xlsxWriter struct {
	out   *bufio.Writer
	zw    *zip.Writer
	sheet io.Writer
	cols  []models.ExportColumn
	refs  []string // column letters
	row   int      // rows written, the header included
	line  []byte
	vals  []any
}

const (
	xmlHeader   = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain      = `http://schemas.openxmlformats.org/spreadsheetml/2006/main`
	nsRel       = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	nsPkgRel    = `http://schemas.openxmlformats.org/package/2006/relationships`
	ctWorksheet = `application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml`
	relSheet    = nsRel + `/worksheet`
)

var xlsxParts = []struct{ name, body string }{
	{"[Content_Types].xml", xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="` + ctWorksheet + `"/>` +
		`<Override PartName="/xl/worksheets/sheet2.xml" ContentType="` + ctWorksheet + `"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`</Types>`},
	{"_rels/.rels", xmlHeader + `<Relationships xmlns="` + nsPkgRel + `">` +
		`<Relationship Id="rId1" Type="` + nsRel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
	{"xl/workbook.xml", xmlHeader + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `">` +
		`<bookViews><workbookView activeTab="0"/></bookViews><sheets>` +
		`<sheet name="` + DataSheet + `" sheetId="1" r:id="rId1"/><sheet name="` + CodebookSheet + `" sheetId="2" r:id="rId2"/>` +
		`</sheets></workbook>`},
	{"xl/_rels/workbook.xml.rels", xmlHeader + `<Relationships xmlns="` + nsPkgRel + `">` +
		`<Relationship Id="rId1" Type="` + relSheet + `" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="` + relSheet + `" Target="worksheets/sheet2.xml"/>` +
		`<Relationship Id="rId3" Type="` + nsRel + `/styles" Target="styles.xml"/></Relationships>`},
	{"xl/styles.xml", xmlHeader + `<styleSheet xmlns="` + nsMain + `">` +
		`<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>` +
		`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
		`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`},
}

const (
	dataSheetStart = xmlHeader + `<worksheet xmlns="` + nsMain + `"><sheetViews><sheetView tabSelected="1" workbookViewId="0">` +
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>` +
		`</sheetView></sheetViews><sheetData>`
	codebookSheetStart = xmlHeader + `<worksheet xmlns="` + nsMain + `"><sheetData>`
	sheetEnd           = `</sheetData></worksheet>`
)

func newXLSX(w io.Writer, cols []models.ExportColumn) (*xlsxWriter, error) {
	out := bufio.NewWriterSize(w, 64<<10)
	x := &xlsxWriter{out: out, zw: zip.NewWriter(out), cols: cols, refs: make([]string, max(len(cols), 5))}
	for i := range x.refs {
		x.refs[i] = columnName(i + 1)
	}
	for _, p := range xlsxParts {
		f, err := x.zw.Create(p.name)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return nil, err
		}
	}
	sheet, err := x.zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, err
	}
	x.sheet = sheet
	if _, err := io.WriteString(sheet, dataSheetStart); err != nil {
		return nil, err
	}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = anonymize.Neutralize(validUTF8(c.Name))
	}
	return x, x.writeRow(head)
}

// columnName is a column's letters (1: A, 27: AA).
func columnName(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

func (x *xlsxWriter) Row(cells []string) error {
	if x.row > MaxXLSXRows {
		return ErrTooManyRows
	}
	x.vals = x.vals[:0]
	for i, v := range cells {
		x.vals = append(x.vals, x.value(i, v))
	}
	return x.writeRow(x.vals)
}

// writeRow writes the next row: nil is an empty cell, int64 and float64
// numbers, strings inline strings (already neutralised).
func (x *xlsxWriter) writeRow(vals []any) error {
	x.row++
	r := strconv.Itoa(x.row)
	b := append(x.line[:0], `<row r="`...)
	b = append(b, r...)
	b = append(b, `">`...)
	for i, v := range vals {
		if v == nil {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, x.ref(i)...)
		b = append(b, r...)
		switch v := v.(type) {
		case int64:
			b = append(b, `"><v>`...)
			b = strconv.AppendInt(b, v, 10)
			b = append(b, `</v></c>`...)
		case float64:
			b = append(b, `"><v>`...)
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
			b = append(b, `</v></c>`...)
		case string:
			b = append(b, `" t="inlineStr"><is><t xml:space="preserve">`...)
			b = appendXMLText(b, v)
			b = append(b, `</t></is></c>`...)
		}
	}
	b = append(b, `</row>`...)
	x.line = b
	_, err := x.sheet.Write(b)
	return err
}

func (x *xlsxWriter) ref(i int) string {
	if i < len(x.refs) {
		return x.refs[i]
	}
	return columnName(i + 1)
}

// value is a cell's value: numbers as numbers, everything else as a
// string (never a formula: no cell is ever written with one).
func (x *xlsxWriter) value(i int, v string) any {
	if v == "" {
		return nil
	}
	if i < len(x.cols) {
		switch x.cols[i].Type {
		case models.ColInteger:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		case models.ColNumber:
			if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f
			}
		}
	}
	return anonymize.Neutralize(validUTF8(v))
}

// appendXMLText appends s escaped for XML character data, cut to what a
// cell holds; characters XML cannot carry become U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	n := 0
	for _, r := range s {
		if n == maxCellChars {
			break
		}
		n++
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '\t', r == '\n', r == '\r':
			b = append(b, byte(r))
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

func (x *xlsxWriter) Close() error {
	if _, err := io.WriteString(x.sheet, sheetEnd); err != nil {
		return err
	}
	if err := x.writeCodebook(); err != nil {
		return err
	}
	if err := x.zw.Close(); err != nil {
		return err
	}
	return x.out.Flush()
}

func (x *xlsxWriter) writeCodebook() error {
	sheet, err := x.zw.Create("xl/worksheets/sheet2.xml")
	if err != nil {
		return err
	}
	x.sheet, x.row = sheet, 0
	if _, err := io.WriteString(sheet, codebookSheetStart); err != nil {
		return err
	}
	if err := x.writeRow([]any{"column", "label", "type", "values", "note"}); err != nil {
		return err
	}
	for _, c := range x.cols {
		row := []any{c.Name, c.Label, c.Type, ValuesText(c.Values), c.Note}
		for j, v := range row {
			if s := v.(string); s == "" {
				row[j] = nil
			} else {
				row[j] = anonymize.Neutralize(validUTF8(s))
			}
		}
		if err := x.writeRow(row); err != nil {
			return err
		}
	}
	_, err = io.WriteString(sheet, sheetEnd)
	return err
}
