//go:build !js

package intoto_test

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/fixtures/hostile"
	"github.com/imgproof/imgproof/internal/limits"
)

// FuzzStatement parses arbitrary statements. Parsing is deterministic; an
// accepted statement reads the same to encoding/json, and each sha256
// subject binds to a node with that digest.
func FuzzStatement(f *testing.F) {
	for _, e := range hostile.FuzzSeeds(1 << 20).Envelopes {
		var env struct {
			Payload string `json:"payload"`
		}
		if json.Unmarshal(e, &env) != nil {
			continue
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			if p, err := enc.DecodeString(env.Payload); err == nil {
				f.Add(p)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := limits.Default()
		s, err := intoto.Parse(data, lim)
		_, err2 := intoto.Parse(data, lim)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("inconsistent: %v then %v", err, err2)
		}
		if err != nil {
			return
		}
		var loose intoto.Statement
		if err := json.Unmarshal(data, &loose); err != nil {
			t.Fatalf("accepted a statement encoding/json rejects: %v", err)
		}
		if !reflect.DeepEqual(*s, loose) {
			t.Fatalf("strict and encoding/json read different statements")
		}
		for _, sub := range s.Subject {
			d, err := digest.Parse("sha256:" + sub.Digest["sha256"])
			if err != nil {
				continue
			}
			m, err := s.Bind([]intoto.Node{{Digest: d, Kind: "manifest", Path: "x"}})
			if err != nil || len(m) == 0 {
				t.Fatalf("subject with sha256 %s does not bind to that digest: %v", d, err)
			}
		}
	})
}
