//go:build tools

// Package tools pins promtool, which runway's tests run to check and unit-test the chart's alert rules.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
