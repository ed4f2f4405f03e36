package viewstest

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"herald/domain"
	"herald/projections"
)

// GeneratorConfig shapes the entries a Generator produces. Zero fields take the defaults
// named beside them.
type GeneratorConfig struct {
	Seed  uint64
	Start time.Time     // earliest timestamp; default 2024-03-01T00:00:00Z
	Span  time.Duration // timestamps fall in [Start, Start+Span); default 10 days
	// InOrder makes timestamps mostly follow recording order, as when producers send events
	// promptly (a little jitter, a few late arrivals). Otherwise they are spread uniformly
	// over the span, as when a backlog is replayed.
	InOrder bool
	// Expected is how many entries an InOrder generator spreads over the span; default 10,000.
	Expected int
	// Resources is about how many distinct resource ids appear; default 500.
	Resources int
}

// Generator produces realistic event-log entries, the same ones for the same config: several
// accounts, both levels, about thirty event types (among them a legacy flat name and one
// outside the catalog), services, hosts, resources of every type, timestamps spread over days
// and not in recording order, some equal. Positions grow with every entry, with gaps where
// other facts would sit.
type Generator struct {
	cfg       GeneratorConfig
	rng       *rand.Rand
	total     float64 // sum of type weights
	position  uint64
	produced  int
	recent    []time.Time // timestamps handed out lately, to repeat some exactly
	resources map[string][]string
	hosts     []string
}

type generatedType struct {
	name         string
	weight       float64
	level        domain.Level
	resourceType string
	service      string
}

var generatedTypes = []generatedType{
	{"user.checks.tag.policy_evaluation.update", 8, domain.LevelInfo, domain.ResourceImageTag, "policy_engine"},
	{"user.checks.tag.vulnerabilities.update", 8, domain.LevelInfo, domain.ResourceImageTag, "catalog"},
	{"user.checks.repo.tags.update", 1, domain.LevelInfo, domain.ResourceRepository, "catalog"}, // not in the catalog
	{"user.image.analysis.completed", 10, domain.LevelInfo, domain.ResourceImageDigest, "analyzer"},
	{"user.image.analysis.failed", 2, domain.LevelError, domain.ResourceImageDigest, "analyzer"},
	{"user.policy.active.updated", 1, domain.LevelInfo, domain.ResourcePolicyBundle, "policy_engine"},
	{"user.policy.active.content_change", 1, domain.LevelInfo, domain.ResourcePolicyBundle, "policy_engine"},
	{"system.image_analysis.registry_lookup_failed", 2, domain.LevelError, domain.ResourceImageReference, "analyzer"},
	{"system.image_analysis.restarted", 1, domain.LevelInfo, domain.ResourceImageDigest, "analyzer"},
	{"system.analysis_archive.image_archived", 3, domain.LevelInfo, domain.ResourceImageDigest, "catalog"},
	{"system.analysis_archive.image_archive_failed", 1, domain.LevelError, domain.ResourceImageDigest, "catalog"},
	{"system.analysis_archive.image_restored", 1, domain.LevelInfo, domain.ResourceImageDigest, "catalog"},
	{"system.analysis_archive.image_restore_failed", 0.5, domain.LevelError, domain.ResourceImageDigest, "catalog"},
	{"system.analysis_archive.image_archive_deleted", 1, domain.LevelInfo, domain.ResourceImageDigest, "catalog"},
	{"system.analysis_archive.image_archive_delete_failed", 0.5, domain.LevelError, domain.ResourceImageDigest, "catalog"},
	{"system.repository.list_tags_fail", 2, domain.LevelError, domain.ResourceRepository, "catalog"},
	{"list_tags_fail", 0.5, domain.LevelError, domain.ResourceRepository, "catalog"}, // legacy flat name
	{"system.feeds.sync.started", 2, domain.LevelInfo, domain.ResourceFeeds, "policy_engine"},
	{"system.feeds.sync.completed", 2, domain.LevelInfo, domain.ResourceFeeds, "policy_engine"},
	{"system.feeds.sync.failed", 0.5, domain.LevelError, domain.ResourceFeeds, "policy_engine"},
	{"system.feeds.sync.feed_started", 4, domain.LevelInfo, domain.ResourceFeed, "policy_engine"},
	{"system.feeds.sync.feed_completed", 4, domain.LevelInfo, domain.ResourceFeed, "policy_engine"},
	{"system.feeds.sync.feed_failed", 0.5, domain.LevelError, domain.ResourceFeed, "policy_engine"},
	{"system.feeds.sync.group_started", 8, domain.LevelInfo, domain.ResourceFeedGroup, "policy_engine"},
	{"system.feeds.sync.group_completed", 8, domain.LevelInfo, domain.ResourceFeedGroup, "policy_engine"},
	{"system.feeds.sync.group_failed", 1, domain.LevelError, domain.ResourceFeedGroup, "policy_engine"},
	{"system.service.state_transition", 2, domain.LevelInfo, domain.ResourceService, "simplequeue"},
	{"system.service.down", 0.5, domain.LevelError, domain.ResourceService, "apiext"},
	{"system.service.orphaned", 0.3, domain.LevelError, domain.ResourceService, "apiext"},
	{"system.service.removed", 0.2, domain.LevelInfo, domain.ResourceService, "apiext"},
}

var (
	generatedAccounts = []string{"admin", "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell", "cyberdyne", "soylent"}
	generatedServices = []string{"analyzer", "catalog", "policy_engine", "simplequeue", "apiext", "notifications", "reports", "enterprise_feeds"}
	generatedRepos    = []string{"library/nginx", "library/alpine", "library/debian", "library/postgres", "library/redis", "acme/api", "acme/web", "globex/billing", "initech/tps", "hooli/search"}
	generatedFeeds    = []string{"vulnerabilities", "nvdv2", "github", "packages", "vulndb"}
	generatedGroups   = []string{"alpine:3.18", "alpine:3.19", "debian:11", "debian:12", "ubuntu:22.04", "rhel:8", "github:python", "github:npm", "github:go", "nvdv2:cves", "amzn:2", "ol:9"}
)

// NewGenerator returns a generator for cfg.
func NewGenerator(cfg GeneratorConfig) *Generator {
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Span <= 0 {
		cfg.Span = 10 * 24 * time.Hour
	}
	if cfg.Expected <= 0 {
		cfg.Expected = 10_000
	}
	if cfg.Resources <= 0 {
		cfg.Resources = 500
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6865726164)), resources: map[string][]string{}}
	for _, t := range generatedTypes {
		g.total += t.weight
	}
	for i := range 24 {
		g.hosts = append(g.hosts, fmt.Sprintf("dockerhostid-%s-%02d", g.hex(3), i))
	}
	g.fillResources()
	return g
}

// fillResources makes the resource pools, sized so that about cfg.Resources ids exist.
func (g *Generator) fillResources() {
	share := func(f float64) int { return max(1, int(f*float64(g.cfg.Resources))) }
	for range share(0.45) {
		g.resources[domain.ResourceImageDigest] = append(g.resources[domain.ResourceImageDigest], "sha256:"+g.hex(32))
	}
	for i := range share(0.30) {
		repo := generatedRepos[i%len(generatedRepos)]
		g.resources[domain.ResourceImageTag] = append(g.resources[domain.ResourceImageTag], fmt.Sprintf("docker.io/%s:%d.%d.%d", repo, i/100, i%17, i%7))
	}
	for i := range share(0.15) {
		repo := generatedRepos[i%len(generatedRepos)]
		g.resources[domain.ResourceImageReference] = append(g.resources[domain.ResourceImageReference], fmt.Sprintf("registry.example.com/%s:build-%d", repo, i))
	}
	for _, r := range generatedRepos {
		g.resources[domain.ResourceRepository] = append(g.resources[domain.ResourceRepository], "docker.io/"+r)
	}
	g.resources[domain.ResourceFeeds] = []string{"feeds"}
	g.resources[domain.ResourceFeed] = generatedFeeds
	g.resources[domain.ResourceFeedGroup] = generatedGroups
	for range share(0.01) {
		g.resources[domain.ResourcePolicyBundle] = append(g.resources[domain.ResourcePolicyBundle], g.hex(16))
	}
	for _, s := range generatedServices {
		g.resources[domain.ResourceService] = append(g.resources[domain.ResourceService], s+"-"+g.hex(2))
	}
}

func (g *Generator) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return hex.EncodeToString(b)
}

// skewed picks an index below n, low indexes far more often than high ones, as real
// workloads have a few busy accounts, hosts and images.
func (g *Generator) skewed(n int) int {
	u := g.rng.Float64()
	return min(n-1, int(u*u*u*float64(n)))
}

// Next returns a new entry.
func (g *Generator) Next() projections.EventEntry {
	g.position += 1 + uint64(g.rng.IntN(3))
	pick := g.rng.Float64() * g.total
	t := generatedTypes[len(generatedTypes)-1]
	for _, c := range generatedTypes {
		if pick < c.weight {
			t = c
			break
		}
		pick -= c.weight
	}
	e := projections.EventEntry{
		ID:           g.hex(16),
		Position:     g.position,
		Timestamp:    g.timestamp(),
		Level:        t.level,
		Type:         t.name,
		Account:      domain.DefaultAccount,
		ResourceType: t.resourceType,
		Service:      t.service,
		Host:         g.hosts[g.skewed(len(g.hosts))],
	}
	if t.name[0] == 'u' {
		e.Account = generatedAccounts[g.skewed(len(generatedAccounts))]
	}
	pool := g.resources[t.resourceType]
	e.ResourceID = pool[g.skewed(len(pool))]
	switch n := g.rng.IntN(100); {
	case n < 2: // no source
		e.Service, e.Host = "", ""
	case n < 3: // no resource
		e.ResourceID, e.ResourceType = "", ""
	case n < 8:
		e.Service = generatedServices[g.rng.IntN(len(generatedServices))]
	}
	g.produced++
	return e
}

// timestamp returns the next timestamp, in microseconds as the log keeps them.
func (g *Generator) timestamp() time.Time {
	if len(g.recent) > 0 && g.rng.IntN(100) < 3 {
		return g.recent[g.rng.IntN(len(g.recent))]
	}
	var t time.Time
	if g.cfg.InOrder {
		at := time.Duration(float64(g.cfg.Span) * float64(g.produced) / float64(g.cfg.Expected))
		jitter := time.Duration(g.rng.NormFloat64() * float64(20*time.Second))
		if g.rng.IntN(100) < 2 {
			jitter = -time.Duration(g.rng.Int64N(int64(24 * time.Hour))) // a late arrival
		}
		t = g.cfg.Start.Add(max(0, at+jitter))
	} else {
		t = g.cfg.Start.Add(time.Duration(g.rng.Int64N(int64(g.cfg.Span))))
	}
	t = t.Truncate(time.Microsecond)
	if len(g.recent) < 64 {
		g.recent = append(g.recent, t)
	} else {
		g.recent[g.rng.IntN(len(g.recent))] = t
	}
	return t
}

// Entries returns n new entries.
func (g *Generator) Entries(n int) []projections.EventEntry {
	out := make([]projections.EventEntry, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// NextPosition reserves the position of a fact that is not an entry (a deletion, a clear).
func (g *Generator) NextPosition() uint64 {
	g.position += 1 + uint64(g.rng.IntN(3))
	return g.position
}

// Position is the last position handed out.
func (g *Generator) Position() uint64 { return g.position }

// Recorded returns the changes that record entries, each at its own position.
func Recorded(entries ...projections.EventEntry) []projections.Change {
	out := make([]projections.Change, len(entries))
	for i := range entries {
		out[i] = projections.Change{Recorded: &entries[i], At: entries[i].Position}
	}
	return out
}
