package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// No Docker engine runs where the tests do, so docker-compose.yml is checked for what would
// break it: `docker compose config` when the plugin is installed, and in any case a reading of
// the file that every service is there with a health check, that herald waits for healthy
// dependencies, and that every HERALD_* variable is one `herald serve` reads.
func TestDockerCompose_isConsistentWithHerald(t *testing.T) {
	path := filepath.Join("..", "..", "docker-compose.yml")
	if out, err := exec.Command("docker", "compose", "-f", path, "config", "-q").CombinedOutput(); err == nil {
		t.Logf("docker compose config: ok")
	} else {
		t.Logf("docker compose is not available here (%s); reading the file instead", strings.TrimSpace(firstLine(string(out))))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML for compose: %v", err)
	}
	serve := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	newServeCommand().Flags().VisitAll(func(f *pflag.Flag) { serve.AddFlag(f) })
	known := map[string]bool{}
	serve.VisitAll(func(f *pflag.Flag) { known[envName(f.Name)] = true })

	hostPorts := map[string]string{}
	for _, name := range []string{"kafka", "kurrentdb", "redis", "herald-1", "herald-2"} {
		svc, ok := compose.Services[name]
		if !ok {
			t.Errorf("service %s is missing", name)
			continue
		}
		if len(svc.Healthcheck.Test) == 0 {
			t.Errorf("service %s has no health check", name)
		}
		for _, p := range svc.Ports {
			host := strings.Split(p, ":")[0]
			if other, dup := hostPorts[host]; dup {
				t.Errorf("services %s and %s both publish host port %s", other, name, host)
			}
			hostPorts[host] = name
		}
		if !strings.HasPrefix(name, "herald") {
			continue
		}
		for _, dep := range []string{"kafka", "kurrentdb", "redis"} {
			if svc.DependsOn[dep].Condition != "service_healthy" {
				t.Errorf("%s does not wait for %s to be healthy", name, dep)
			}
		}
		if strings.Join(svc.Healthcheck.Test, " ") != "CMD /herald health" {
			t.Errorf("%s checks its health with %v, want the image's `herald health`", name, svc.Healthcheck.Test)
		}
		for key, value := range svc.Environment {
			if !known[key] {
				t.Errorf("%s sets %s, which `herald serve` does not read", name, key)
			}
			if value == "" {
				t.Errorf("%s sets %s to nothing", name, key)
			}
		}
		for _, key := range []string{"HERALD_EVENTSTORE_URL", "HERALD_REDIS_URL", "HERALD_KAFKA_BROKERS", "HERALD_SECRET_KEY"} {
			if svc.Environment[key] == "" {
				t.Errorf("%s lacks %s: the instances would not share the topology", name, key)
			}
		}
		if err := (&eventStoreFlags{URL: svc.Environment["HERALD_EVENTSTORE_URL"]}).check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if compose.Services["herald-1"].Environment["HERALD_SECRET_KEY"] != compose.Services["herald-2"].Environment["HERALD_SECRET_KEY"] {
		t.Errorf("the herald instances have different secret keys: each could not open the other's sealed credentials")
	}

	// The image the services build: from this module, on the Go the module asks for.
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, _ := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))
	if goVersion == nil || !strings.Contains(string(dockerfile), "FROM golang:"+goVersion[1]) {
		t.Errorf("the Dockerfile does not build with Go %v of go.mod", goVersion)
	}
	if !strings.Contains(string(dockerfile), "./cmd/herald") {
		t.Errorf("the Dockerfile does not build ./cmd/herald")
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
