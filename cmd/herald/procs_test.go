package main

import "testing"

func TestServeProcs_oneMoreForTheEmbeddedStoreUnlessGOMAXPROCSIsSet(t *testing.T) {
	for _, c := range []struct {
		name       string
		embedded   bool
		gomaxprocs string
		want       int
	}{
		{"embedded store", true, "", 3},
		{"embedded store, GOMAXPROCS set", true, "2", 2},
		{"KurrentDB: no local syncs", false, "", 2},
		{"KurrentDB, GOMAXPROCS set", false, "2", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(name string) string {
				if name == "GOMAXPROCS" {
					return c.gomaxprocs
				}
				return ""
			}
			if got := serveProcs(2, c.embedded, getenv); got != c.want {
				t.Errorf("serveProcs(2, embedded=%v, GOMAXPROCS=%q) = %d, want %d", c.embedded, c.gomaxprocs, got, c.want)
			}
		})
	}
}
