package main

import (
	"io"
	"net/http"
	"regexp"
	"testing"
)

// GraphiQL at / loads its scripts and styles from herald itself, without credentials, so
// that it works where herald has no internet access.
func TestGraphiQL_servedWithItsAssetsWithoutCredentials(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(app.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}
	res, page := get("/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", res.StatusCode)
	}
	refs := regexp.MustCompile(`<(?:script[^>]*\ssrc|link[^>]*\shref)="(/[^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 4 {
		t.Fatalf("page references %d local assets, want 4:\n%s", len(refs), page)
	}
	for _, ref := range refs {
		if res, body := get(ref[1]); res.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s = %d with %d bytes, want 200 and the file", ref[1], res.StatusCode, len(body))
		}
	}
}
