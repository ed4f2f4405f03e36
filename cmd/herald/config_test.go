package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfigFile_everyKeyIsAServeFlag(t *testing.T) {
	flags := newServeCommand().Flags()
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft, path+f.Tag.Get("yaml")+".")
				continue
			}
			if flags.Lookup(f.Tag.Get("flag")) == nil {
				t.Errorf("config key %s%s maps to --%s, which herald serve does not have", path, f.Tag.Get("yaml"), f.Tag.Get("flag"))
			}
		}
	}
	walk(reflect.TypeOf(fileConfig{}), "")
}

func TestConfigFile_precedenceAndStrictKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`notifications:
  require_auth: false
  port: 9000
  listen: 127.0.0.1
  cycle_timers:
    notifications: 45
  ui_url: https://ui.example.com
store:
  data_dir: /tmp/from-file
log:
  level: debug
auth:
  allowed_origins: "dashboard.example.com,*.corp.example"
`)
	cmd := newServeCommand()
	if err := cmd.ParseFlags([]string{"--port", "9100"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_LOG_LEVEL", "warn")
	if err := bindEnv(cmd); err != nil {
		t.Fatal(err)
	}
	values, err := loadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := applySettings(cmd, values); err != nil {
		t.Fatal(err)
	}
	get := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
	for name, want := range map[string]string{
		"port": "9100", "log-level": "warn", "data-dir": "/tmp/from-file", "require-auth": "false",
		"notifications-cycle": "45", "ui-url": "https://ui.example.com", "listen": "127.0.0.1",
		"allowed-origins": "[dashboard.example.com,*.corp.example]",
	} {
		if got := get(name); got != want {
			t.Errorf("--%s = %q, want %q (command line > environment > file)", name, got, want)
		}
	}

	for content, want := range map[string]string{
		"notifications:\n  requre_auth: true\n":           "line 2: unknown key notifications.requre_auth",
		"notifications:\n  cycle_timers:\n    notif: 3\n": "line 3: unknown key notifications.cycle_timers.notif",
		"notifications:\n  port: eighty\n":                "notifications.port must be a whole number",
		"storage:\n  data_dir: x\n":                       "line 1: unknown key storage",
		"notifications: [1, 2]\n":                         "notifications must be a mapping",
		"store:\n  data_dir: a\n  data_dir: b\n":          "line 3: store.data_dir is given twice (first on line 2): keep one",
		"store:\n  data_dir: a\nstore:\n  data_dir: b\n":  "line 3: store is given twice (first on line 1)",
	} {
		write(content)
		if _, err := loadConfigFile(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: error %v, want %q", content, err, want)
		}
	}
}
