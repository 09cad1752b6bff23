// Package models holds Focal Point's domain and its persistence: one file per
// aggregate with its GORM type, validation and state rules, and a Store with
// the methods that read and write them. It imports neither echo nor net/http.
package models
