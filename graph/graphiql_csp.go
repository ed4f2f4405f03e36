package graph

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// graphiqlPolicy is the page's Content-Security-Policy: nothing but herald's own files and
// the page's inline script and style as rendered, named by their hashes, so markup that slips
// into the page cannot run a script or send what it reads elsewhere. The vendored GraphiQL
// needs no eval and no workers; its fonts and a few images are data: URLs in its stylesheet.
// Its dialogs add a <style> that hides the scroll bar while they are open: the policy
// refuses it (the browser's console says so), which changes nothing on a page that does not
// scroll, where allowing it would take 'unsafe-inline' for every style.
type graphiqlPolicy struct {
	before, after string   // the directives before and after connect-src
	connect       []string // connect-src's sources, without the page's own websocket origin
}

func graphiqlCSP(page []byte, endpoint string) (graphiqlPolicy, error) {
	connect, err := connectSources(endpoint)
	if err != nil {
		return graphiqlPolicy{}, err
	}
	scripts, styles := inlineHashes(page, "script"), inlineHashes(page, "style")
	if len(scripts) != 1 || len(styles) != 1 {
		return graphiqlPolicy{}, fmt.Errorf("graphiql page has %d inline scripts and %d inline styles, want 1 of each", len(scripts), len(styles))
	}
	return graphiqlPolicy{
		before: strings.Join([]string{
			"default-src 'none'",
			"script-src 'self' " + scripts[0],
			"style-src 'self' " + styles[0],
			"img-src 'self' data:",
			"font-src 'self' data:",
		}, "; "),
		connect: connect,
		after:   strings.Join([]string{"base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"}, "; "),
	}, nil
}

// forHost is the policy of the page served as host (the request's Host): subscriptions open
// a websocket to the page's own origin, which 'self' covers in CSP 3 but not in browsers that
// follow CSP 2, so that origin is named as well, as ws: and wss: (a proxy may end TLS).
func (p graphiqlPolicy) forHost(host string) string {
	connect := p.connect
	if validHost(host) {
		connect = append(slices.Clip(connect), "ws://"+host, "wss://"+host)
	}
	return p.before + "; connect-src " + strings.Join(connect, " ") + "; " + p.after
}

// connectSources are where the page's queries and subscriptions go: herald itself, and
// the endpoint's origin over http(s) and ws(s) when it is an absolute URL. CSP 3 lets
// 'self' cover the websocket of the page's own origin.
func connectSources(endpoint string) ([]string, error) {
	sources := []string{"'self'"}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("graphiql endpoint: %w", err)
	}
	if u.Host == "" {
		return sources, nil
	}
	if !validHost(u.Host) {
		return nil, fmt.Errorf("graphiql endpoint %q: host cannot go in a Content-Security-Policy", endpoint)
	}
	switch u.Scheme {
	case "https":
		sources = append(sources, "https://"+u.Host, "wss://"+u.Host)
	case "http":
		sources = append(sources, "http://"+u.Host, "ws://"+u.Host)
	default:
		return nil, fmt.Errorf("graphiql endpoint %q: want a path or an http(s) URL", endpoint)
	}
	return sources, nil
}

// validHost tells whether host is written only with what a host name, an IP address (v6 in
// brackets) and a port are written with, and nothing that could end a source or a directive.
func validHost(host string) bool {
	return host != "" && !strings.ContainsFunc(host, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r))
	})
}

// inlineHashes are the CSP hash sources of the page's inline elements of tag (written
// without attributes, as page.html does). html/template escapes "</" inside scripts and
// styles, so an element ends at the first closing tag.
func inlineHashes(page []byte, tag string) []string {
	start, end := []byte("<"+tag+">"), []byte("</"+tag+">")
	var sources []string
	for rest := page; ; {
		_, after, ok := bytes.Cut(rest, start)
		if !ok {
			return sources
		}
		body, next, ok := bytes.Cut(after, end)
		if !ok {
			return sources
		}
		sum := sha256.Sum256(body)
		sources = append(sources, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		rest = next
	}
}
