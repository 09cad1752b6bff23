package models

import (
	"strings"
	"testing"
)

// TestResponseMemoStaysWithinBudget: the memo keeps about its byte
// budget however many responses pass through it, keeps the responses
// used most recently, and never lets an earlier version replace a later
// one.
func TestResponseMemoStaysWithinBudget(t *testing.T) {
	entry := func(id int64, version int) *memoEntry {
		return &memoEntry{resp: Response{ID: id, Version: version}, answers: map[int64]string{1: strings.Repeat("x", 1000)}}
	}
	one := entry(0, 0).size()
	m := newResponseMemo(20 * one)
	for i := int64(1); i <= 1000; i++ {
		m.put(memoKey{i, 1}, entry(i, 1))
		if i%10 == 0 && m.get(memoKey{1, 1}) == nil {
			t.Fatalf("after %d responses the first, used all along, is gone", i)
		}
	}
	if n := m.len(); n > 21 || n < 10 {
		t.Fatalf("%d entries held for a budget of 20", n)
	}
	if m.get(memoKey{500, 1}) != nil {
		t.Fatal("an entry from long ago is still held")
	}
	if m.get(memoKey{1000, 1}) == nil {
		t.Fatal("the last entry is gone")
	}
	m.put(memoKey{1000, 1}, entry(1000, 3))
	m.put(memoKey{1000, 1}, entry(1000, 2))
	if e := m.get(memoKey{1000, 1}); e == nil || e.resp.Version != 3 {
		t.Fatalf("an earlier version replaced a later one: %+v", e)
	}
}
