package graph

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// GraphiQLStatic is where the playground serves GraphiQL's scripts and styles. They come
// with the binary, not from a CDN, so GraphiQL works where herald has no internet access.
// Each file's path names its package version, so browsers may keep it for good.
const GraphiQLStatic = "/graphiql/static/"

// The vendored files, relative to graphiql/static; graph/graphiql/VENDOR.md says where they
// come from and how to update them.
const (
	graphiqlStaticDir = "graphiql/static"
	graphiqlJS        = "graphiql-4.1.2/graphiql.min.js"
	graphiqlCSS       = "graphiql-4.1.2/graphiql.min.css"
	reactJS           = "react-18.3.1/react.production.min.js"
	reactDOMJS        = "react-dom-18.3.1/react-dom.production.min.js"
)

// A year, the longest HTTP caches honour; a new version comes under a new path.
const staticCacheControl = "public, max-age=31536000, immutable"

// graphiqlWelcome is the query editor's first content: the headers editor takes strict JSON,
// so how to sign in is told here, in GraphQL comments, rather than as a comment there.
const graphiqlWelcome = `# herald's GraphiQL. To sign in, open the Headers tab below and give an API
# token (herald account token issue):
#
#   {"Authorization": "Bearer hrld_..."}
#
# or with HTTP Basic credentials, "Basic " and the base64 of user:password
# (printf '%s' 'admin:PASSWORD' | base64):
#
#   {"Authorization": "Basic YWRtaW46UEFTU1dPUkQ="}
#
# Then run this query to see who you are signed in as.
query {
  viewer { account user role }
}
`

//go:embed graphiql/page.html graphiql/static
var graphiqlFS embed.FS

// NewPlayground returns the GraphiQL page, which queries endpoint (a path, or an absolute
// URL) and subscribes over websockets at the same address. The handler also serves the
// page's assets under GraphiQLStatic: route that path to it as well as the page's.
func NewPlayground(endpoint string) http.Handler {
	static, err := fs.Sub(graphiqlFS, graphiqlStaticDir)
	if err != nil {
		return brokenPlayground(err)
	}
	assets, err := graphiqlAssets(static)
	if err != nil {
		return brokenPlayground(err)
	}
	page, err := graphiqlPage(endpoint)
	if err != nil {
		return brokenPlayground(err)
	}
	csp, err := graphiqlCSP(page, endpoint)
	if err != nil {
		return brokenPlayground(err)
	}
	return &graphiqlPlayground{page: page, csp: csp, assets: assets}
}

type graphiqlPlayground struct {
	page   []byte
	csp    graphiqlPolicy            // the page's Content-Security-Policy
	assets map[string]*graphiqlAsset // by path under GraphiQLStatic
}

func (p *graphiqlPlayground) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, GraphiQLStatic); ok {
		p.serveAsset(w, r, name)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache") // after an upgrade, the page names the new assets
	h.Set("Content-Security-Policy", p.csp.forHost(r.Host))
	h.Set("X-Frame-Options", "DENY") // frame-ancestors 'none' for browsers without CSP 2
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.page))
}

func (p *graphiqlPlayground) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := p.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	content, etag := a.content, a.etag
	h := w.Header()
	if acceptsGzip(r.Header) {
		if gz := a.gzipped(); gz.content != nil {
			content, etag = gz.content, gz.etag
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", staticCacheControl)
	h.Set("ETag", etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	// ServeContent sends no Content-Length with a Content-Encoding: gzip goes out chunked.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

func graphiqlPage(endpoint string) ([]byte, error) {
	tmpl, err := template.ParseFS(graphiqlFS, "graphiql/page.html")
	if err != nil {
		return nil, fmt.Errorf("parse graphiql page: %w", err)
	}
	var page bytes.Buffer
	err = tmpl.Execute(&page, struct {
		Endpoint, DefaultQuery                   string
		GraphiQLJS, GraphiQLCSS, React, ReactDOM string
	}{
		Endpoint:     endpoint,
		DefaultQuery: graphiqlWelcome,
		GraphiQLJS:   GraphiQLStatic + graphiqlJS,
		GraphiQLCSS:  GraphiQLStatic + graphiqlCSS,
		React:        GraphiQLStatic + reactJS,
		ReactDOM:     GraphiQLStatic + reactDOMJS,
	})
	if err != nil {
		return nil, fmt.Errorf("render graphiql page: %w", err)
	}
	return page.Bytes(), nil
}

// brokenPlayground answers 500 with why the page could not be built: the embedded files are
// checked by the tests, so this is a build gone wrong, not something to stop the server for.
func brokenPlayground(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "GraphiQL is unavailable: "+err.Error(), http.StatusInternalServerError)
	})
}
