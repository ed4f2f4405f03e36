package embedded

// headCache remembers the heads of recently written streams for the writer goroutine only
// (no locking). It keeps two generations of at most size/2 heads each: when the young one is
// full it becomes the old one and the previous old one is dropped, so memory stays bounded
// and busy streams, found in either and promoted, stay cached. Streams written once, the
// common case, simply age out.
type headCache struct {
	young, old map[string]head
	limit      int
}

func newHeadCache(size int) *headCache {
	limit := max(1, size/2)
	return &headCache{young: make(map[string]head, limit), old: map[string]head{}, limit: limit}
}

func (c *headCache) get(stream string) (head, bool) {
	if h, ok := c.young[stream]; ok {
		return h, true
	}
	h, ok := c.old[stream]
	if ok {
		c.put(stream, h)
	}
	return h, ok
}

func (c *headCache) put(stream string, h head) {
	if _, ok := c.young[stream]; !ok && len(c.young) >= c.limit {
		c.old, c.young = c.young, make(map[string]head, c.limit)
	}
	c.young[stream] = h
}
