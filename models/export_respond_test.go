package models

// ExplodeForTest exposes explode to the external tests of this package.
var ExplodeForTest = func(q *Question, raw string) []SubmittedAnswer { return explode(q, raw, SubmittedAnswer{}) }
