package redis

import (
	"sync"

	"herald/domain"
)

// maxCachedConfigurations bounds the decoded configurations kept between reads.
const maxCachedConfigurations = 100_000

// decodedConfigurations remembers configurations as last decoded, by id, with the stored
// value they came from. The dispatcher reads every configuration, often, and decoding one
// (JSON, then compiling its selectors' expressions) costs far more than fetching it: a read
// whose stored value is unchanged reuses the decoded configuration. Like the memory view's,
// the configurations handed out share their selectors and settings with the cache, which
// never changes them; callers must not either.
type decodedConfigurations struct {
	mu   sync.Mutex
	byID map[string]decodedConfiguration
}

type decodedConfiguration struct {
	stored string
	c      domain.Configuration
}

func newDecodedConfigurations() *decodedConfigurations {
	return &decodedConfigurations{byID: map[string]decodedConfiguration{}}
}

// decode returns the configuration id stored as s, decoded afresh only when s is new.
func (d *decodedConfigurations) decode(id, s string) (domain.Configuration, error) {
	d.mu.Lock()
	hit, found := d.byID[id]
	d.mu.Unlock()
	if found && hit.stored == s {
		return hit.c, nil
	}
	c, err := decodeConfiguration([]byte(s))
	if err != nil {
		return domain.Configuration{}, err
	}
	d.mu.Lock()
	if len(d.byID) >= maxCachedConfigurations {
		clear(d.byID)
	}
	d.byID[id] = decodedConfiguration{stored: s, c: c}
	d.mu.Unlock()
	return c, nil
}

// keepOnly forgets every configuration but those of held (id -> stored value), after a
// listing of every configuration: the others were deleted.
func (d *decodedConfigurations) keepOnly(held map[string]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.byID {
		if _, ok := held[id]; !ok {
			delete(d.byID, id)
		}
	}
}
