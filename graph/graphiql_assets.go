package graph

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// graphiqlAsset is one vendored file, served as is or gzip-compressed.
type graphiqlAsset struct {
	contentType string
	content     []byte
	etag        string
	// gzipped compresses content at the first request that accepts gzip, not at start:
	// most herald processes (and tests) never serve GraphiQL.
	gzipped func() encodedAsset
}

// encodedAsset is an asset's gzip variant. Its ETag is that of its own bytes: a cache must
// not take one variant for the other. content is nil when compressing does not pay.
type encodedAsset struct {
	content []byte
	etag    string
}

// graphiqlAssets reads the files under static with their content type and ETag.
func graphiqlAssets(static fs.FS) (map[string]*graphiqlAsset, error) {
	assets := map[string]*graphiqlAsset{}
	err := fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := fs.ReadFile(static, name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		assets[name] = &graphiqlAsset{
			contentType: contentType(name),
			content:     content,
			etag:        etag(content),
			gzipped:     sync.OnceValue(func() encodedAsset { return gzipAsset(content) }),
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list graphiql assets: %w", err)
	}
	return assets, nil
}

func gzipAsset(content []byte) encodedAsset {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression) // paid once per asset
	if err != nil {
		return encodedAsset{}
	}
	if _, err := zw.Write(content); err != nil {
		return encodedAsset{}
	}
	if err := zw.Close(); err != nil || buf.Len() >= len(content) {
		return encodedAsset{}
	}
	return encodedAsset{content: buf.Bytes(), etag: etag(buf.Bytes())}
}

func etag(content []byte) string {
	sum := sha256.Sum256(content)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

// acceptsGzip tells whether the request's Accept-Encoding admits gzip: named with a q above
// 0, or covered by a "*" with one. An unreadable q refuses, as identity always works.
func acceptsGzip(h http.Header) bool {
	star := false
	for _, v := range h.Values("Accept-Encoding") {
		for item := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				return qValue(params) > 0
			case "*":
				star = qValue(params) > 0
			}
		}
	}
	return star
}

// qValue is the weight among an Accept-Encoding item's parameters, 1 when it has none.
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0
		}
		return q
	}
	return 1
}

// contentType is set here rather than by mime.TypeByExtension, which reads the host's
// mime.types and may call a script something else.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default: // the LICENSE files
		return "text/plain; charset=utf-8"
	}
}
