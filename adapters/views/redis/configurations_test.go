package redis

import (
	"testing"

	"herald/adapters/views/redis/redistest"
	"herald/adapters/views/viewstest"
	"herald/projections"
)

func newTestConfigurations(t testing.TB, prefix string) *Configurations {
	t.Helper()
	v, err := NewConfigurations(shared.Client(t), Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConfigurations(t *testing.T) {
	viewstest.TestConfigurationView(t, func(t *testing.T) projections.ConfigurationView {
		return newTestConfigurations(t, redistest.Prefix(t))
	})
}
