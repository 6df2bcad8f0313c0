//go:build tools

// Package tools pins actionlint, which runway's tests run on .github/workflows/.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
