//go:build tools

// This file pins the modules the areas use, so go.mod lists them from the
// start (it is never built).
package models

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/emersion/go-smtp"
	_ "github.com/microcosm-cc/bluemonday"
	_ "github.com/wneessen/go-mail"
	_ "github.com/xuri/excelize/v2"
	_ "github.com/yuin/goldmark"
	_ "golang.org/x/time/rate"
)
