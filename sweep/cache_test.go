//go:build !js

package sweep

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgproof/imgproof/verify"
)

func TestCacheOneReadPerKey(t *testing.T) {
	c := NewCache(10)
	s := c.Scope("r")
	var reads atomic.Int32
	release := make(chan struct{})
	want := &verify.BlobEvidence{}
	var wg sync.WaitGroup
	got := make([]*verify.BlobEvidence, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = s.Do("k", func() (*verify.BlobEvidence, bool) {
				reads.Add(1)
				<-release
				return want, true
			})
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if reads.Load() != 1 {
		t.Errorf("%d reads of one key, want 1", reads.Load())
	}
	for i, r := range got {
		if r != want {
			t.Errorf("call %d got another result", i)
		}
	}
	if st := c.Stats(); st.Used != 8 || st.Read != 1 {
		t.Errorf("stats %+v, want 8 used, 1 read", st)
	}
	// Another scope never sees the key.
	other := 0
	c.Scope("q").Do("k", func() (*verify.BlobEvidence, bool) { other++; return want, true })
	if other != 1 {
		t.Error("a key was shared between scopes")
	}
}

func TestCacheNotKeptIsReadAgain(t *testing.T) {
	c := NewCache(10)
	s := c.Scope("r")
	reads := 0
	for range 3 {
		s.Do("k", func() (*verify.BlobEvidence, bool) { reads++; return &verify.BlobEvidence{}, false })
	}
	if reads != 3 {
		t.Errorf("%d reads of a result that is not kept, want 3", reads)
	}
}

func TestCachePanicReleasesWaiters(t *testing.T) {
	c := NewCache(10)
	s := c.Scope("r")
	started := make(chan struct{})
	go func() {
		defer func() { _ = recover() }()
		s.Do("k", func() (*verify.BlobEvidence, bool) {
			close(started)
			time.Sleep(20 * time.Millisecond)
			panic("bug")
		})
	}()
	<-started
	done := make(chan *verify.BlobEvidence)
	want := &verify.BlobEvidence{}
	go func() { done <- s.Do("k", func() (*verify.BlobEvidence, bool) { return want, true }) }()
	select {
	case r := <-done:
		if r != want {
			t.Error("the waiter got the panicked read's result")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a panic in one read left a waiter blocked")
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache(2)
	s := c.Scope("r")
	reads := map[string]int{}
	get := func(k string) {
		s.Do(k, func() (*verify.BlobEvidence, bool) { reads[k]++; return &verify.BlobEvidence{}, true })
	}
	get("a")
	get("b")
	get("a") // a is now the most recent
	get("c") // evicts b
	get("a")
	get("b")
	if reads["a"] != 1 || reads["b"] != 2 || reads["c"] != 1 {
		t.Errorf("reads %v, want a once, b twice, c once", reads)
	}
	if st := c.Stats(); st.Evicted != 2 {
		t.Errorf("%d evictions, want 2", st.Evicted)
	}
}
