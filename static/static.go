// Package static embeds the CSS, JavaScript and images served under a
// checksum path (/static/<sum>/...), so they can be cached forever.
package static

import "embed"

// FS holds the static files.
//
//go:embed css js
var FS embed.FS
