//go:build tools

// Package deps pins the project's mandated modules in go.mod before every
// package that uses them has landed. It is never built.
package deps

import (
	_ "github.com/Masterminds/semver/v3"
	_ "github.com/chromedp/chromedp"
	_ "github.com/emersion/go-sasl"
	_ "github.com/emersion/go-smtp"
	_ "github.com/kardianos/service"
	_ "github.com/mattn/go-sqlite3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.yaml.in/yaml/v3"
)
