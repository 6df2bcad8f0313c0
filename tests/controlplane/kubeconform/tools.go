//go:build tools

// Package tools pins the kubeconform command that runway's chart tests run in strict mode.
package tools

import _ "github.com/yannh/kubeconform/cmd/kubeconform"
