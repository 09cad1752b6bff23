// Package templates embeds the HTML and email templates: layout.html,
// partials/, pages/<area>/<action>.html and email/.
package templates

import "embed"

// FS holds every template file.
//
//go:embed layout.html partials pages email
var FS embed.FS
