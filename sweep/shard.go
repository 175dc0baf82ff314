//go:build !js

package sweep

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Shard is one part of a sweep: Index in [0, Count).
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// All is the shard that holds everything.
var All = Shard{Index: 0, Count: 1}

// ParseShard reads INDEX/COUNT; an empty INDEX takes defaultIndex (the
// Kubernetes JOB_COMPLETION_INDEX).
func ParseShard(s, defaultIndex string) (Shard, error) {
	idx, cnt, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("--shard %q: want INDEX/COUNT", s)
	}
	if idx == "" {
		idx = defaultIndex
		if idx == "" {
			return Shard{}, fmt.Errorf("--shard %q: no INDEX and JOB_COMPLETION_INDEX is not set", s)
		}
	}
	i, err1 := strconv.Atoi(idx)
	n, err2 := strconv.Atoi(cnt)
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want INDEX/COUNT with 0 <= INDEX < COUNT", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Owns reports whether the repository (registry/path, as
// name.Repository.Name gives it) belongs to the shard. The assignment is a
// hash of the name alone: stable across runs, machines and versions, and
// every tag of a repository lands on one shard.
func (s Shard) Owns(repository string) bool {
	if s.Count <= 1 {
		return true
	}
	h := sha256.Sum256([]byte(repository))
	return binary.BigEndian.Uint64(h[:8])%uint64(s.Count) == uint64(s.Index)
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }
