// Package health runs the Argo CD health checks in deploy/argocd the way Argo CD does: every
// <group>/<Kind>/health.lua runs in gopher-lua against each object listed in the health_test.yaml next to
// it, and the returned status and message must equal the expected ones.
//
// Like Argo CD for health checks configured in argocd-cm, the interpreter starts without Lua's standard
// libraries and opens only package, base and table, and the object arrives as the global `obj`, decoded
// from its JSON form (numbers become Lua numbers, null becomes nil).
package health

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// The directory that mirrors Argo CD's resource_customizations layout.
const customizations = "../../deploy/argocd"

// The health statuses Argo CD accepts from a script; anything else becomes Unknown.
var validStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type healthTestFile struct {
	Tests []struct {
		HealthStatus healthStatus `json:"healthStatus"`
		InputPath    string       `json:"inputPath"`
	} `json:"tests"`
}

// toLua converts a decoded JSON value into the Lua value Argo CD hands to a script.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	default:
		return lua.LNil
	}
}

// runHealth runs script against obj and returns the health status it reports.
func runHealth(t *testing.T, script string, obj map[string]any) healthStatus {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			t.Fatalf("opening Lua library %q: %v", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		t.Fatalf("script failed: %v", err)
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("script returned %s, not a table", l.Get(-1).Type())
	}
	got := healthStatus{}
	if s, ok := ret.RawGetString("status").(lua.LString); ok {
		got.Status = string(s)
	}
	if m, ok := ret.RawGetString("message").(lua.LString); ok {
		got.Message = string(m)
	}
	if !validStatuses[got.Status] {
		t.Fatalf("script returned status %q, which Argo CD would turn into Unknown", got.Status)
	}
	return got
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	jsonData, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := json.Unmarshal(jsonData, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestHealthChecks(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join(customizations, "*", "*", "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(scripts)
	want := []string{
		filepath.Join(customizations, "runway.dev", "AppRunnerService", "health.lua"),
		filepath.Join(customizations, "runway.dev", "ExpressService", "health.lua"),
	}
	if len(scripts) != len(want) || scripts[0] != want[0] || scripts[1] != want[1] {
		t.Fatalf("health checks found: %v; want %v", scripts, want)
	}
	for _, scriptPath := range scripts {
		dir := filepath.Dir(scriptPath)
		kind := filepath.Base(dir)
		group := filepath.Base(filepath.Dir(dir))
		script, err := os.ReadFile(scriptPath)
		if err != nil {
			t.Fatal(err)
		}
		var cases healthTestFile
		readYAML(t, filepath.Join(dir, "health_test.yaml"), &cases)
		if len(cases.Tests) == 0 {
			t.Fatalf("%s/health_test.yaml has no tests", dir)
		}
		covered := map[string]bool{}
		for _, tc := range cases.Tests {
			t.Run(kind+"/"+tc.InputPath, func(t *testing.T) {
				var obj map[string]any
				readYAML(t, filepath.Join(dir, tc.InputPath), &obj)
				if obj["kind"] != kind || obj["apiVersion"] != group+"/v1alpha1" {
					t.Fatalf("%s is a %v %v, not a %s/v1alpha1 %s", tc.InputPath, obj["apiVersion"], obj["kind"], group, kind)
				}
				got := runHealth(t, string(script), obj)
				if got != tc.HealthStatus {
					t.Errorf("got %+v\nwant %+v", got, tc.HealthStatus)
				}
			})
			covered[tc.HealthStatus.Status] = true
		}
		for _, status := range []string{"Healthy", "Progressing", "Degraded", "Suspended"} {
			if !covered[status] {
				t.Errorf("%s/health_test.yaml has no case for %s", dir, status)
			}
		}
		// Every testdata file is used by a case, so none is silently skipped.
		files, _ := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			used := false
			for _, tc := range cases.Tests {
				used = used || filepath.Clean(tc.InputPath) == rel
			}
			if !used {
				t.Errorf("%s is not referenced by %s/health_test.yaml", rel, dir)
			}
		}
	}
}

// The checks are documented as argocd-cm keys; a script that needs the string library (string.format,
// s:find) would pass with open libraries but fail there, which the sandbox above already enforces. This
// case proves the sandbox really lacks it.
func TestSandboxHasNoStringLibrary(t *testing.T) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	if err := l.CallByParam(lua.P{Fn: l.NewFunction(lua.OpenBase), NRet: 0, Protect: true}, lua.LString(lua.BaseLibName)); err != nil {
		t.Fatal(err)
	}
	if err := l.DoString(`return string.format("%d", 1)`); err == nil {
		t.Fatal("string library is available in the sandbox")
	}
}
