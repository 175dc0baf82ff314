//go:build !js

package sweep

import (
	"container/list"
	"sync"

	"github.com/imgproof/imgproof/verify"
)

// Cache is a bounded blob-evidence cache with one fetch per key in flight:
// images that need a blob another image is reading wait for that read.
type Cache struct {
	mu       sync.Mutex
	max      int
	lru      *list.List // of *entry, most recent first
	entries  map[string]*list.Element
	inflight map[string]*call
	stats    BlobStats
}

type entry struct {
	key string
	r   *verify.BlobEvidence
}

type call struct {
	done chan struct{}
	r    *verify.BlobEvidence
	kept bool
}

// BlobStats counts the blob work of a sweep.
type BlobStats struct {
	// Used counts the blobs images asked for; BytesUsed their sizes.
	Used      int64 `json:"used"`
	BytesUsed int64 `json:"bytesUsed"`
	// Read counts the blobs actually read; BytesRead their sizes. Without
	// evictions these are the unique blobs and bytes.
	Read      int64 `json:"read"`
	BytesRead int64 `json:"bytesRead"`
	// Evicted counts results dropped to stay within the bound.
	Evicted int64 `json:"evicted"`
}

// DedupFactor is the bytes images asked for over the bytes read.
func (s BlobStats) DedupFactor() float64 {
	if s.BytesRead == 0 {
		return 0
	}
	return float64(s.BytesUsed) / float64(s.BytesRead)
}

// NewCache returns a cache that holds at most bound results (at least one).
func NewCache(bound int) *Cache {
	return &Cache{max: max(bound, 1), lru: list.New(), entries: map[string]*list.Element{}, inflight: map[string]*call{}}
}

// Stats returns the counts so far.
func (c *Cache) Stats() BlobStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Scope returns the view of the cache for one source: keys of different
// scopes never meet.
func (c *Cache) Scope(scope string) verify.BlobCache { return scoped{c, scope} }

type scoped struct {
	c     *Cache
	scope string
}

func (s scoped) Do(key string, compute func() (*verify.BlobEvidence, bool)) *verify.BlobEvidence {
	return s.c.do(s.scope+"\x00"+key, compute)
}

func (c *Cache) do(key string, compute func() (*verify.BlobEvidence, bool)) *verify.BlobEvidence {
	for {
		c.mu.Lock()
		if el, ok := c.entries[key]; ok {
			c.lru.MoveToFront(el)
			r := el.Value.(*entry).r
			c.stats.Used++
			c.stats.BytesUsed += r.Size()
			c.mu.Unlock()
			return r
		}
		if cl, ok := c.inflight[key]; ok {
			c.mu.Unlock()
			<-cl.done
			if cl.kept {
				c.mu.Lock()
				c.stats.Used++
				c.stats.BytesUsed += cl.r.Size()
				c.mu.Unlock()
				return cl.r
			}
			continue // that read was not kept (a read error): read it again
		}
		cl := &call{done: make(chan struct{})}
		c.inflight[key] = cl
		c.mu.Unlock()
		return c.compute(key, cl, compute)
	}
}

// compute runs the read for key and publishes its result to the calls
// waiting for it. A panic in the read (a bug, which the verifier turns into
// a finding) still releases them: they then read the blob themselves.
func (c *Cache) compute(key string, cl *call, compute func() (*verify.BlobEvidence, bool)) (r *verify.BlobEvidence) {
	var keep, finished bool
	defer func() {
		c.mu.Lock()
		delete(c.inflight, key)
		if finished {
			c.stats.Used++
			c.stats.Read++
			c.stats.BytesUsed += r.Size()
			c.stats.BytesRead += r.Size()
		}
		if finished && keep && r != nil {
			c.entries[key] = c.lru.PushFront(&entry{key, r})
			for c.lru.Len() > c.max {
				old := c.lru.Back()
				c.lru.Remove(old)
				delete(c.entries, old.Value.(*entry).key)
				c.stats.Evicted++
			}
		}
		cl.r, cl.kept = r, finished && keep && r != nil
		c.mu.Unlock()
		close(cl.done)
	}()
	r, keep = compute()
	finished = true
	return r
}
