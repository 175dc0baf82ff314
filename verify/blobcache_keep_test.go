package verify

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
)

func TestKeepEvidence(t *testing.T) {
	full := &evidence{size: 10, digests: map[digest.Algorithm]digest.Digest{digest.SHA256: "sha256:x"}}
	cases := []struct {
		name string
		ev   *evidence
		job  blobJob
		want bool
	}{
		{"complete read", full, blobJob{max: 11}, true},
		{"uncapped read", full, blobJob{max: -1}, true},
		{"cut at the declared size", &evidence{size: 11}, blobJob{max: 11}, false},
		{"read error", &evidence{size: 3, readErr: errors.New("reset")}, blobJob{max: 11}, false},
		{"limit hit", &evidence{size: 10, decompressErr: limits.Exceeded(limits.LayerDecompressed, 1, "x")}, blobJob{max: 11}, false},
		{"bad gzip", &evidence{size: 10, decompressErr: errors.New("flate: corrupt input")}, blobJob{max: 11}, true},
	}
	for _, c := range cases {
		if got := keepEvidence(c.ev, c.job); got != c.want {
			t.Errorf("%s: keepEvidence = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCovers(t *testing.T) {
	ev := &evidence{compression: CompressionGzip,
		digests: map[digest.Algorithm]digest.Digest{digest.SHA256: "sha256:x"},
		diffIDs: map[digest.Algorithm]digest.Digest{digest.SHA256: "sha256:y"}}
	if !covers(ev, blobJob{algs: []digest.Algorithm{digest.SHA256}}) {
		t.Error("sha256 evidence does not cover a sha256 job")
	}
	if covers(ev, blobJob{algs: []digest.Algorithm{digest.SHA256}, diffAlgs: []digest.Algorithm{digest.SHA512}}) {
		t.Error("evidence without a sha512 diff_id covers a job that needs one")
	}
	if covers(ev, blobJob{algs: []digest.Algorithm{digest.SHA512}}) {
		t.Error("evidence without a sha512 digest covers a sha512 job")
	}
}
