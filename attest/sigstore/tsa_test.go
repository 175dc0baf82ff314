//go:build !js

package sigstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

// tsaWorld is a Sigstore instance like GitHub's: Fulcio and a timestamp
// authority, no transparency log. Its bundles carry an RFC 3161 timestamp
// and no log entry.
type tsaWorld struct {
	vs       *ca.VirtualSigstore
	artifact string // sha256:… named by the statement's subject
}

const tsaIdentity, tsaIssuer = "https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main", GitHubIssuer

func newTSAWorld(t *testing.T) *tsaWorld {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("artifact"))
	return &tsaWorld{vs: vs, artifact: "sha256:" + hex.EncodeToString(sum[:])}
}

// root is the trusted root: without logs, or with the instance's Rekor
// and CT logs as the public-good root has them.
func (w *tsaWorld) root(t *testing.T, withLogs bool) []byte {
	var tlogs, ctlogs map[string]*root.TransparencyLog
	if withLogs {
		tlogs, ctlogs = w.vs.RekorLogs(), w.vs.CTLogs()
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, w.vs.FulcioCertificateAuthorities(), ctlogs, w.vs.TimestampingAuthorities(), tlogs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bundle signs an SLSA statement over the artifact and returns the v0.3
// bundle with its RFC 3161 timestamps (stamps chooses them) and no log entry.
func (w *tsaWorld) bundle(t *testing.T, stamps func([][]byte) [][]byte) []byte {
	_, hexDigest, _ := strings.Cut(w.artifact, ":")
	st, err := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1", "predicateType": SLSAProvenanceV1,
		"subject": []map[string]any{{"name": "artifact", "digest": map[string]string{"sha256": hexDigest}}}, "predicate": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := w.vs.Attest(tsaIdentity, tsaIssuer, st)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := e.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := e.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := e.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	var rfc []*protocommon.RFC3161SignedTimestamp
	for _, s := range stamps(ts) {
		rfc = append(rfc, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: s})
	}
	pb := &protobundle.Bundle{MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: rfc},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{Payload: payload, PayloadType: env.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sig}}}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTimestampOnlyInstance: under a trusted root that lists a timestamp
// authority and no transparency log, a keyless bundle takes its time from
// its RFC 3161 timestamp; without a valid one it fails. Under a root that
// lists a log, the same bundle still needs a log entry.
func TestTimestampOnlyInstance(t *testing.T) {
	w := newTSAWorld(t)
	other := newTSAWorld(t)
	keep := func(ts [][]byte) [][]byte { return ts }
	none := func([][]byte) [][]byte { return nil }
	good := w.bundle(t, keep)
	// A timestamp of another instance's authority.
	foreignStamp := other.bundle(t, keep)
	var foreign struct {
		VerificationMaterial struct {
			TimestampVerificationData json.RawMessage `json:"timestampVerificationData"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(foreignStamp, &foreign); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	var tvd any
	if err := json.Unmarshal(foreign.VerificationMaterial.TimestampVerificationData, &tvd); err != nil {
		t.Fatal(err)
	}
	doc["verificationMaterial"].(map[string]any)["timestampVerificationData"] = tvd
	swapped, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}

	tsaRoot := w.root(t, false)
	for _, c := range []struct {
		name   string
		bundle []byte
		root   []byte
		p      Policy
		want   string
	}{
		{name: "RFC 3161 time", bundle: good, root: tsaRoot, p: Policy{Identity: tsaIdentity, Issuer: tsaIssuer}},
		{name: "RFC 3161 time, GitHub criteria", bundle: good, root: tsaRoot, p: Policy{GitHub: &GitHub{Owner: "acme"}},
			want: CheckIdentity}, // the virtual CA writes no source repository extensions
		{name: "no timestamp", bundle: w.bundle(t, none), root: tsaRoot, p: Policy{Identity: tsaIdentity, Issuer: tsaIssuer}, want: CheckTimestamps},
		{name: "another authority's timestamp", bundle: swapped, root: tsaRoot, p: Policy{Identity: tsaIdentity, Issuer: tsaIssuer}, want: CheckTimestamps},
		{name: "wrong identity", bundle: good, root: tsaRoot, p: Policy{Identity: "https://github.com/evil/app", Issuer: tsaIssuer}, want: CheckIdentity},
		{name: "another instance's root", bundle: good, root: other.root(t, false), p: Policy{Identity: tsaIdentity, Issuer: tsaIssuer}, want: CheckTimestamps},
		{name: "a root with a log needs an entry", bundle: good, root: w.root(t, true), p: Policy{Identity: tsaIdentity, Issuer: tsaIssuer}, want: CheckTransparencyLog},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			p.TrustedRoot = c.root
			p.PredicateType = SLSAProvenanceV1
			res, err := Verify(context.Background(), c.bundle, Artifact{Digest: w.artifact}, p)
			if c.want == "" {
				if err != nil || !res.Verified {
					t.Fatalf("want verified: %v", err)
				}
				if len(res.Timestamps) == 0 || res.Timestamps[0].Kind != "TimestampAuthority" {
					t.Fatalf("the time source is not the RFC 3161 timestamp: %+v", res.Timestamps)
				}
				for _, ch := range res.Checks {
					if ch.Name == CheckTransparencyLog && ch.Status != "skip" {
						t.Fatalf("transparency-log check %s", ch.Status)
					}
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) || se.Check != c.want || res.Verified {
				t.Fatalf("want a failed %s check, got %v", c.want, err)
			}
		})
	}
}
