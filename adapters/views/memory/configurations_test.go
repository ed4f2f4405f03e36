package memory

import (
	"testing"

	"herald/adapters/views/viewstest"
	"herald/projections"
)

var _ projections.ConfigurationView = (*Configurations)(nil)

func TestConfigurations(t *testing.T) {
	viewstest.TestConfigurationView(t, func(*testing.T) projections.ConfigurationView { return NewConfigurations() })
}
