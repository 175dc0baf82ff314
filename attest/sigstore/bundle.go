//go:build !js

package sigstore

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/proto"

	"github.com/imgproof/imgproof/internal/limits"
)

// Artifact is what a signature must cover: a stream of bytes or a digest.
// Exactly one field must be set.
type Artifact struct {
	Reader io.Reader
	// Digest is algorithm:hex, for example sha256:ab12…
	Digest string
}

// Verify checks a sigstore bundle (JSON, v0.1 to v0.3) against an artifact
// and a policy, offline. It returns a Result listing every check that ran,
// and a non-nil *Error when any check failed or could not run; the Result
// is never nil.
func Verify(ctx context.Context, bundleJSON []byte, artifact Artifact, p Policy) (*Result, error) {
	return verifyBundle(ctx, bundleJSON, artifact, p, false)
}

// verifyBundle is Verify. With statementOnly, a DSSE bundle is verified
// without an artifact: the caller binds the verified statement's subjects
// itself (a cosign .att layer names the image it is attached to).
func verifyBundle(ctx context.Context, bundleJSON []byte, artifact Artifact, p Policy, statementOnly bool) (*Result, error) {
	res := &Result{}
	if err := ctx.Err(); err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	if err := p.validate(); err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	hasher, opt, err := artifactOption(artifact)
	if statementOnly {
		hasher, opt, err = nil, sgverify.WithoutArtifactUnsafe(), nil
	}
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}

	lim := p.limits()
	if int64(len(bundleJSON)) > lim.AttestationDocument {
		return res, res.fail(CheckBundle, ErrMalformed,
			limits.Exceeded(limits.AttestationDocument, lim.AttestationDocument, "bundle"))
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return res, res.fail(CheckBundle, ErrMalformed, err)
	}
	res.MediaType = b.GetMediaType()
	if res.Version, err = b.Version(); err != nil {
		return res, res.fail(CheckBundle, ErrMalformed, err)
	}
	res.pass(CheckBundle, "media type "+res.MediaType)

	tm, tr, check, err := trustedMaterial(&p)
	if err != nil {
		return res, res.fail(check, ErrTrustedRoot, err)
	}
	inst := instanceOf(tr)
	if len(p.TrustedRoot) > 0 {
		res.pass(CheckTrustedRoot, inst.describe())
	}

	opts, err := verifierOptions(&p, inst)
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	v, err := sgverify.NewVerifier(tm, opts...)
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	if err := res.describe(&b); err != nil {
		return res, res.fail(CheckBundle, ErrMalformed, err)
	}

	// Each stage below is also run inside sgverify.Verifier.Verify, which
	// alone decides the outcome; running them first names the failed check.
	if err := res.stages(&b, v, tm, &p, inst); err != nil {
		return res, err
	}

	pb, err := policyBuilder(&p, opt)
	if err != nil {
		return res, res.fail(CheckPolicy, ErrPolicy, err)
	}
	vr, err := v.Verify(&b, pb)
	if err != nil {
		check := CheckSignature
		if res.Payload != nil && !statementOnly {
			check = CheckSubject
			if err2 := res.envelopeSignatureOnly(&b, v); err2 != nil {
				check = CheckSignature
			}
		}
		return res, res.fail(check, ErrVerify, err)
	}
	if hasher != nil {
		// Read what the signature check left, so the digests cover every byte.
		if _, err := io.Copy(io.Discard, hasher.tee); err != nil {
			return res, res.fail(CheckSignature, ErrVerify, fmt.Errorf("reading artifact: %w", err))
		}
		res.ArtifactDigest = hasher.digest("sha256")
	} else {
		res.ArtifactDigest = artifact.Digest
	}
	if err := res.messageDigest(&b, hasher, artifact.Digest); err != nil {
		return res, err
	}
	if err := res.statement(p.PredicateType, lim); err != nil {
		return res, err
	}
	if statementOnly && res.Statement == nil {
		return res, res.fail(CheckPayload, ErrMalformed, errors.New("a DSSE envelope was expected"))
	}
	if res.Statement != nil && !statementOnly {
		// sigstore-go matched the subject on its own parse of the statement;
		// match it again on the strict parse, so both readings agree.
		digests := []string{res.ArtifactDigest}
		if hasher != nil {
			digests = append(digests, hasher.digest("sha512"))
		}
		if err := res.bindArtifact(res.Statement, digests...); err != nil {
			return res, err
		}
	}
	msg := "over " + res.ArtifactDigest
	switch {
	case statementOnly:
		msg = "DSSE envelope; its statement's subjects are bound by the caller"
	case res.Payload != nil:
		msg = "DSSE envelope; statement subject matches " + res.ArtifactDigest
	}
	res.pass(CheckSignature, msg)
	for _, ts := range vr.VerifiedTimestamps {
		res.Timestamps = append(res.Timestamps, Timestamp{Kind: ts.Type, URI: ts.URI, Time: ts.Timestamp.UTC()})
	}
	res.Verified = true
	return res, nil
}

// stages runs the log, timestamp, certificate and identity checks one by
// one, recording each.
func (res *Result) stages(b *bundle.Bundle, v *sgverify.Verifier, tm root.TrustedMaterial, p *Policy, inst instance) error {
	var logTimes []sgverify.TimestampVerificationResult
	if inst.timestampsOnly(p) {
		res.skip(CheckTransparencyLog, "the trusted root lists no transparency log: RFC 3161 timestamps are the time source")
	} else if len(p.TrustedRoot) > 0 {
		var err error
		logTimes, err = v.VerifyTransparencyLogInclusion(b)
		if err != nil {
			return res.fail(CheckTransparencyLog, ErrVerify, err)
		}
		if err := everyKnownEntry(b, tm); err != nil {
			return res.fail(CheckTransparencyLog, ErrVerify, err)
		}
		res.pass(CheckTransparencyLog, fmt.Sprintf("%d entr%s", len(res.TlogEntries), plural(len(res.TlogEntries), "y", "ies")))
	} else {
		res.skip(CheckTransparencyLog, "no trusted root given: the key is the only trust anchor")
	}

	stamps, err := b.Timestamps()
	if err != nil {
		return res.fail(CheckTimestamps, ErrMalformed, err)
	}
	if len(stamps) > 0 && len(p.TrustedRoot) > 0 {
		// Every RFC 3161 timestamp present must verify, not just enough of them.
		_, errs, err := sgverify.VerifySignedTimestamp(b, tm)
		if err == nil && len(errs) > 0 {
			err = errors.Join(errs...)
		}
		if err != nil {
			return res.fail(CheckTimestamps, ErrVerify, err)
		}
	}
	var observed []sgverify.TimestampVerificationResult
	if len(p.TrustedRoot) > 0 {
		observed, err = v.VerifyObserverTimestamps(b, logTimes)
		if err != nil {
			return res.fail(CheckTimestamps, ErrVerify, err)
		}
		res.pass(CheckTimestamps, fmt.Sprintf("%d observer timestamp(s), %d RFC 3161", len(observed), len(stamps)))
	} else if len(stamps) > 0 {
		res.skip(CheckTimestamps, "no trusted root given: RFC 3161 timestamps not checked")
	}

	vc, err := b.VerificationContent()
	if err != nil {
		return res.fail(CheckCertificate, ErrMalformed, err)
	}
	leaf := vc.Certificate()
	if !p.keyless() {
		if leaf != nil {
			return res.fail(CheckKey, ErrVerify, errors.New("bundle is signed with a certificate, a key was expected"))
		}
		res.pass(CheckKey, "the signature must verify with the given key")
		return nil
	}
	if leaf == nil {
		return res.fail(CheckCertificate, ErrVerify, errors.New("bundle carries no certificate; keyless verification needs one"))
	}
	sum, err := certificate.SummarizeCertificate(leaf)
	if err != nil {
		return res.fail(CheckCertificate, ErrMalformed, err)
	}
	res.Signer = sum.SubjectAlternativeName
	res.Issuer = sum.Issuer
	res.Certificate = &sum
	// sigstore-go removes the OtherName SAN from the critical extensions it
	// cannot handle; work on a copy so the later full run sees the original.
	cp := *leaf
	cp.UnhandledCriticalExtensions = nil
	for _, oid := range leaf.UnhandledCriticalExtensions {
		if !oid.Equal(cryptoutils.SANOID) {
			cp.UnhandledCriticalExtensions = append(cp.UnhandledCriticalExtensions, oid)
		}
	}
	for _, ts := range observed {
		c, err := sgverify.VerifyLeafCertificate(ts.Timestamp, &cp, tm)
		if err != nil {
			return res.fail(CheckCertificate, ErrVerify, fmt.Errorf("at %s (%s): %w", ts.Timestamp.UTC().Format(time.RFC3339), ts.Type, err))
		}
		if !inst.needSCT(p) {
			continue
		}
		if err := sgverify.VerifySignedCertificateTimestamp(c, 1, tm); err != nil {
			return res.fail(CheckSCT, ErrVerify, err)
		}
	}
	res.pass(CheckCertificate, fmt.Sprintf("Fulcio chain valid at %d verified timestamp(s)", len(observed)))
	if inst.needSCT(p) {
		res.pass(CheckSCT, "embedded SCT from a trusted CT log")
	} else {
		res.skip(CheckSCT, "the trusted root lists no certificate transparency log")
	}
	res.Build = buildOf(&sum)

	id, err := certificateIdentity(p)
	if err != nil {
		return res.fail(CheckPolicy, ErrPolicy, err)
	}
	if err := id.Verify(sum); err != nil {
		return res.fail(CheckIdentity, ErrVerify, err)
	}
	if p.GitHub != nil {
		if err := p.GitHub.check(&sum); err != nil {
			return res.fail(CheckIdentity, ErrVerify, err)
		}
		res.pass(CheckIdentity, fmt.Sprintf("GitHub %s: SAN %q, source repository %q, issuer %q",
			p.GitHub, sum.SubjectAlternativeName, sum.SourceRepositoryURI, sum.Issuer))
		return nil
	}
	res.pass(CheckIdentity, fmt.Sprintf("SAN %q, issuer %q", sum.SubjectAlternativeName, sum.Issuer))
	return nil
}

// envelopeSignatureOnly checks a DSSE bundle's signature without the
// artifact, to tell a bad signature from a subject that does not match.
func (res *Result) envelopeSignatureOnly(b *bundle.Bundle, v *sgverify.Verifier) error {
	_, err := v.Verify(b, sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), sgverify.WithoutIdentitiesUnsafe()))
	return err
}

// describe records what the bundle claims, before any check.
func (res *Result) describe(b *bundle.Bundle) error {
	entries, err := b.TlogEntries()
	if err != nil {
		return err
	}
	for _, e := range entries {
		te := TlogEntry{LogIndex: e.LogIndex(), LogID: hex.EncodeToString([]byte(e.LogKeyID())),
			InclusionProof: e.HasInclusionProof(), InclusionPromise: e.HasInclusionPromise()}
		if t := e.IntegratedTime(); !t.IsZero() && t.Unix() != 0 {
			tt := t.UTC()
			te.IntegratedTime = &tt
		}
		if kv := e.TransparencyLogEntry().GetKindVersion(); kv != nil {
			te.Kind = kv.GetKind() + "/" + kv.GetVersion()
		}
		res.TlogEntries = append(res.TlogEntries, te)
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return err
	}
	if env := sc.EnvelopeContent(); env != nil {
		raw := env.RawEnvelope()
		res.PayloadType = raw.PayloadType
		payload, err := base64.StdEncoding.DecodeString(raw.Payload)
		if err != nil {
			return fmt.Errorf("DSSE payload: %w", err)
		}
		res.Payload = payload
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// artifactOption turns an Artifact into sigstore-go's artifact policy.
func artifactOption(a Artifact) (*digester, sgverify.ArtifactPolicyOption, error) {
	switch {
	case a.Reader != nil && a.Digest != "":
		return nil, nil, errors.New("give the artifact as bytes or as a digest, not both")
	case a.Reader != nil:
		h := newDigester(a.Reader)
		return h, sgverify.WithArtifact(h.tee), nil
	case a.Digest != "":
		alg, hexDigest, ok := strings.Cut(a.Digest, ":")
		if !ok {
			return nil, nil, fmt.Errorf("artifact digest %q: want algorithm:hex", a.Digest)
		}
		want := map[string]int{"sha256": 32, "sha384": 48, "sha512": 64}[alg]
		raw, err := hex.DecodeString(hexDigest)
		if want == 0 || err != nil || len(raw) != want || hexDigest != strings.ToLower(hexDigest) {
			return nil, nil, fmt.Errorf("artifact digest %q: want sha256, sha384 or sha512 with lowercase hex of the right length", a.Digest)
		}
		return nil, sgverify.WithArtifactDigest(alg, raw), nil
	}
	return nil, nil, errors.New("no artifact given")
}

// trustedMaterial builds what signatures are checked against. On error it
// names the anchor that failed: the trusted root or the key.
func trustedMaterial(p *Policy) (root.TrustedMaterial, *root.TrustedRoot, string, error) {
	var coll root.TrustedMaterialCollection
	var tr *root.TrustedRoot
	if len(p.TrustedRoot) > 0 {
		if lim := p.limits(); int64(len(p.TrustedRoot)) > lim.TrustedRoot {
			return nil, nil, CheckTrustedRoot, limits.Exceeded(limits.TrustedRoot, lim.TrustedRoot, "trusted root")
		}
		var err error
		tr, err = root.NewTrustedRootFromJSON(p.TrustedRoot)
		if err != nil {
			return nil, nil, CheckTrustedRoot, err
		}
		coll = append(coll, tr)
	}
	if !p.keyless() {
		v, err := keyVerifier(p.Key, p.limits())
		if err != nil {
			return nil, nil, CheckKey, err
		}
		key := root.NewExpiringKey(v, time.Time{}, time.Time{})
		coll = append(coll, root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return key, nil
		}))
	}
	return coll, tr, "", nil
}

// instance is what a trusted root provides.
type instance struct {
	tlogs, ctLogs, tsas int
}

func instanceOf(tr *root.TrustedRoot) instance {
	if tr == nil {
		return instance{}
	}
	return instance{tlogs: len(tr.RekorLogs()), ctLogs: len(tr.CTLogs()), tsas: len(tr.TimestampingAuthorities())}
}

// timestampsOnly reports whether keyless signatures under this root take
// their time from RFC 3161 timestamps alone: the root lists timestamp
// authorities and no transparency log, as GitHub's own Sigstore instance
// does. A root that lists a log always requires an entry in it.
func (in instance) timestampsOnly(p *Policy) bool {
	return p.keyless() && in.tlogs == 0 && in.tsas > 0
}

// needSCT reports whether keyless signatures need an embedded SCT: always,
// unless the root is timestamps-only and lists no CT log.
func (in instance) needSCT(p *Policy) bool {
	return !in.timestampsOnly(p) || in.ctLogs > 0
}

func (in instance) describe() string {
	return fmt.Sprintf("%d transparency log(s), %d CT log(s), %d timestamp authorit%s",
		in.tlogs, in.ctLogs, in.tsas, plural(in.tsas, "y", "ies"))
}

// keyVerifier parses a PEM public key into a verifier with the key type's
// default algorithm (ECDSA P-256/SHA-256, P-384/SHA-384, P-521/SHA-512,
// Ed25519, RSA PKCS#1 v1.5 with SHA-256).
func keyVerifier(pemBytes []byte, lim limits.Limits) (signature.Verifier, error) {
	key, err := oneKey(pemBytes, lim)
	if err != nil {
		return nil, err
	}
	return signature.LoadDefaultVerifier(key.Public)
}

// verifierOptions is the strict configuration: keyless needs a log entry,
// an observer timestamp and an SCT; a key with a trusted root needs a log
// entry and an observer timestamp.
//
// Under a root that lists no transparency log but timestamp authorities
// (GitHub's instance), keyless needs a verified RFC 3161 timestamp
// instead, and an SCT only when the root lists a CT log.
func verifierOptions(p *Policy, inst instance) ([]sgverify.VerifierOption, error) {
	if inst.timestampsOnly(p) {
		opts := []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}
		if inst.ctLogs > 0 {
			opts = append(opts, sgverify.WithSignedCertificateTimestamps(1))
		}
		return opts, nil
	}
	if p.keyless() {
		return []sgverify.VerifierOption{
			sgverify.WithTransparencyLog(1),
			sgverify.WithObserverTimestamps(1),
			sgverify.WithSignedCertificateTimestamps(1),
		}, nil
	}
	if len(p.TrustedRoot) > 0 {
		return []sgverify.VerifierOption{
			sgverify.WithTransparencyLog(1),
			sgverify.WithObserverTimestamps(1),
		}, nil
	}
	return []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps()}, nil
}

// certificateIdentity turns the policy into sigstore-go's identity, with
// anchored regular expressions.
func certificateIdentity(p *Policy) (sgverify.CertificateIdentity, error) {
	if p.GitHub != nil {
		return githubIdentity(p)
	}
	san, err := sgverify.NewSANMatcher(p.Identity, anchor(p.IdentityRegexp))
	if err != nil {
		return sgverify.CertificateIdentity{}, err
	}
	iss, err := sgverify.NewIssuerMatcher(p.Issuer, anchor(p.IssuerRegexp))
	if err != nil {
		return sgverify.CertificateIdentity{}, err
	}
	return sgverify.NewCertificateIdentity(san, iss, certificate.Extensions{})
}

func policyBuilder(p *Policy, artifact sgverify.ArtifactPolicyOption) (sgverify.PolicyBuilder, error) {
	if !p.keyless() {
		return sgverify.NewPolicy(artifact, sgverify.WithKey()), nil
	}
	id, err := certificateIdentity(p)
	if err != nil {
		return sgverify.PolicyBuilder{}, err
	}
	return sgverify.NewPolicy(artifact, sgverify.WithCertificateIdentity(id)), nil
}

// everyKnownEntry requires each log entry from a log of the trusted root to
// verify on its own. sigstore-go counts the entries that verify against a
// threshold and skips the others; a forged entry next to a good one is
// rejected here instead. Entries of logs the root does not know are left
// to the threshold, as they cannot be checked.
func everyKnownEntry(b *bundle.Bundle, tm root.TrustedMaterial) error {
	entries := b.GetVerificationMaterial().GetTlogEntries()
	if len(entries) < 2 {
		return nil
	}
	logs := tm.RekorLogs()
	for i := range entries {
		one, ok := proto.Clone(b.Bundle).(*protobundle.Bundle)
		if !ok {
			return errors.New("cloning the bundle failed")
		}
		one.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{one.VerificationMaterial.TlogEntries[i]}
		nb, err := bundle.NewBundle(one)
		if err != nil {
			return fmt.Errorf("log entry %d: %w", i, err)
		}
		parsed, err := nb.TlogEntries()
		if err != nil || len(parsed) != 1 {
			return fmt.Errorf("log entry %d: %v", i, err)
		}
		if _, known := logs[hex.EncodeToString([]byte(parsed[0].LogKeyID()))]; !known {
			continue
		}
		if _, err := sgverify.VerifyTlogEntry(nb, tm, 1, true); err != nil {
			return fmt.Errorf("log entry %d (index %d): %w", i, parsed[0].LogIndex(), err)
		}
	}
	return nil
}
