// Runs runway's Argo CD health checks (deploy/argocd) in gopher-lua, the interpreter Argo CD embeds.
module runway.dev/argocd-health

go 1.24.0

require (
	github.com/yuin/gopher-lua v1.1.2
	sigs.k8s.io/yaml v1.6.0
)

require go.yaml.in/yaml/v2 v2.4.2 // indirect
