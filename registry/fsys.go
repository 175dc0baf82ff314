//go:build !js

package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/fileinfo"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// node is what the documents served so far claim about a digest. It only
// steers fetching (manifest or blob endpoint, how many bytes to read); the
// core checks every claim against the bytes.
type node struct {
	manifest bool
	size     int64 // -1 when unknown
}

// FS presents one registry reference as a read-only OCI image layout. It
// is safe for concurrent use. Blob files stream from the registry; manifest
// files are fetched once under the manifest limit and kept in memory.
type FS struct {
	ctx   context.Context
	c     *client
	lim   limits.Limits
	index []byte
	root  Descriptor

	mu       sync.Mutex
	docs     map[digest.Digest][]byte // fetched documents not yet read
	docBytes int64                    // total size of docs
	nodes    map[digest.Digest]node
	findings []verify.Finding
}

// maxDocCache bounds the documents held between their fetch and their
// first read; past it they are fetched again by digest when read. It is a
// cache size, not an input cap: every document is bounded by its own
// limit when fetched.
const maxDocCache = 64 << 20

var _ fs.ReadDirFS = (*FS)(nil)

// Root returns the descriptor of the manifest or index the reference named,
// with its digest computed from the fetched bytes.
func (f *FS) Root() Descriptor { return f.root }

// IndexJSON returns the synthesized index.json.
func (f *FS) IndexJSON() []byte { return bytes.Clone(f.index) }

// Findings returns what the fetch layer found: header mismatches,
// credentials stripped from redirects, refused plain-HTTP requests.
func (f *FS) Findings() []verify.Finding {
	f.mu.Lock()
	out := append([]verify.Finding(nil), f.findings...)
	f.mu.Unlock()
	f.c.events.mu.Lock()
	defer f.c.events.mu.Unlock()
	for _, h := range f.c.events.stripped {
		out = append(out, verify.Finding{Code: CodeCredentialPolicy, Severity: verify.SeverityInfo,
			Path: "registry:" + h, Message: "registry credentials were withheld from a redirect to another host"})
	}
	for _, h := range f.c.events.refused {
		out = append(out, verify.Finding{Code: CodeCredentialPolicy, Severity: verify.SeverityUnverifiable,
			Path: "registry:" + h, Message: "plain HTTP to a host that is not on loopback was refused; pass --insecure to allow it"})
	}
	for _, n := range f.c.events.retried {
		how := "GET, retried"
		if n.resumed {
			how = "GET, resumed with Range or by skipping bytes already read"
		}
		out = append(out, verify.Finding{Code: CodeFetchRetried, Severity: verify.SeverityInfo, Path: n.path,
			Actual: n.summary, How: how,
			Message: fmt.Sprintf("fetched in %d attempts; the digest covers the bytes as finally read, each offset once", n.attempts)})
	}
	return out
}

func (f *FS) addFinding(x verify.Finding) {
	f.mu.Lock()
	f.findings = append(f.findings, x)
	f.mu.Unlock()
}

func (f *FS) docLimit() int64 { return max(f.lim.IndexDocument, f.lim.ManifestDocument) }

// Open implements fs.FS.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	switch name {
	case ".":
		return &dirFile{name: ".", entries: []fs.DirEntry{
			fileinfo.Dir("blobs"), fileinfo.File("index.json", int64(len(f.index))),
			fileinfo.File("oci-layout", int64(len(layoutFile)))}}, nil
	case "blobs":
		return &dirFile{name: "blobs", entries: []fs.DirEntry{fileinfo.Dir("sha256"), fileinfo.Dir("sha512")}}, nil
	case "blobs/sha256", "blobs/sha512":
		// A registry cannot be listed; the layout shows no stray blobs.
		return &dirFile{name: name[len("blobs/"):]}, nil
	case "oci-layout":
		return newMemFile("oci-layout", []byte(layoutFile)), nil
	case "index.json":
		return newMemFile("index.json", f.index), nil
	}
	rest, ok := strings.CutPrefix(name, "blobs/")
	alg, enc, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	d, err := digest.Parse(alg + ":" + enc)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	file, err := f.openBlob(d, name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return file, nil
}

// ReadDir implements fs.ReadDirFS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	d, ok := file.(*dirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return d.ReadDir(-1)
}

const layoutFile = `{"imageLayoutVersion":"1.0.0"}`

func (f *FS) openBlob(d digest.Digest, name string) (fs.File, error) {
	f.mu.Lock()
	doc, cached := f.docs[d]
	if cached {
		// Served once: a second read fetches again, so memory stays bounded.
		delete(f.docs, d)
		f.docBytes -= int64(len(doc))
	}
	n, known := f.nodes[d]
	f.mu.Unlock()
	if cached {
		return newMemFile(name, doc), nil
	}
	if !known || n.manifest {
		body, err := f.fetchManifest(d)
		if err == nil {
			return newMemFile(name, body), nil
		}
		if known || !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	limit := n.size + 1
	if !known || n.size < 0 {
		limit = max(f.lim.ConfigDocument, f.lim.AttestationDocument) + 1
	}
	br, resp, err := f.c.openBlob(f.ctx, d)
	if err != nil {
		return nil, err
	}
	// The body is read to at most limit bytes, so one longer than the
	// descriptor claims is seen as exactly one byte too long.
	rc := struct {
		io.Reader
		io.Closer
	}{io.LimitReader(br, limit), br}
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" && h != d.String() {
		f.addFinding(verify.Finding{Code: verify.CodeDigestMismatch, Path: "registry:/v2/" + f.c.repo.RepositoryStr() + "/blobs/" + d.String(),
			Expected: d.String(), Actual: h, How: "Docker-Content-Digest response header",
			Message: "the registry's Docker-Content-Digest header names a different digest than the blob requested"})
	}
	size := n.size
	if !known || size < 0 {
		size = max(resp.ContentLength, 0)
	}
	return &blobFile{info: fileinfo.File(name[strings.LastIndexByte(name, '/')+1:], size), rc: rc}, nil
}

// fetchManifest fetches a manifest by digest, remembers it and learns the
// descriptors it names.
func (f *FS) fetchManifest(d digest.Digest) ([]byte, error) {
	if err := f.c.earlierGiveUp(); err != nil {
		return nil, err
	}
	r, err := f.c.get(f.ctx, "manifests", d.String(), f.docLimit(), "manifest "+d.String())
	if err != nil {
		f.c.giveUp(err)
		return nil, err
	}
	f.checkHeaders(r, d, "registry:/v2/"+f.c.repo.RepositoryStr()+"/manifests/"+d.String())
	f.learn(r.body)
	return r.body, nil
}

// checkHeaders compares what the registry says in headers with the body.
// Headers never decide anything; a disagreement is a finding.
func (f *FS) checkHeaders(r *response, want digest.Digest, path string) {
	if h := r.headerDigest; h != "" && h != want.String() {
		f.addFinding(verify.Finding{Code: verify.CodeDigestMismatch, Path: path, Expected: want.String(), Actual: h,
			How:     "Docker-Content-Digest response header",
			Message: "the registry's Docker-Content-Digest header names a different digest than the manifest requested or served"})
	}
	doc := parseLoose(r.body)
	ct := mediaTypeOnly(r.contentType)
	if isSchema1(ct, doc) {
		f.addFinding(verify.Finding{Code: verify.CodeUnsupportedMediaType, Path: path, Actual: firstNonEmpty(ct, "schemaVersion 1"),
			Message: "Docker schema 1 manifests are not supported: their digest does not cover the served bytes"})
		return
	}
	if doc != nil && doc.MediaType != "" && knownManifestType(ct) && ct != doc.MediaType {
		f.addFinding(verify.Finding{Code: verify.CodeMediaTypeMismatch, Path: path, Expected: doc.MediaType, Actual: ct,
			How: "Content-Type response header", Message: "the Content-Type header disagrees with the manifest's mediaType"})
	}
}

// remember keeps a document until it is read, within maxDocCache, and
// records the descriptors it names.
func (f *FS) remember(d digest.Digest, body []byte) {
	f.mu.Lock()
	if _, ok := f.docs[d]; !ok && f.docBytes+int64(len(body)) <= maxDocCache {
		f.docs[d] = body
		f.docBytes += int64(len(body))
	}
	f.mu.Unlock()
	f.learn(body)
}

// learn records the descriptors a document names.
func (f *FS) learn(body []byte) {
	doc := parseLoose(body)
	if doc == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	add := func(x *looseDesc, manifest bool) {
		if x == nil || len(f.nodes) >= f.lim.Descriptors {
			return
		}
		xd, err := digest.Parse(x.Digest)
		if err != nil {
			return
		}
		if old, ok := f.nodes[xd]; ok {
			// Keep the larger claim so that no descriptor is cut short;
			// the core checks each descriptor's own size.
			if x.Size > old.size {
				old.size = x.Size
				f.nodes[xd] = old
			}
			return
		}
		f.nodes[xd] = node{manifest: manifest, size: max(x.Size, -1)}
	}
	for i := range doc.Manifests {
		add(&doc.Manifests[i], true)
	}
	add(doc.Config, false)
	for i := range doc.Layers {
		add(&doc.Layers[i], false)
	}
	add(doc.Subject, true)
}

// looseDoc is read with encoding/json only to steer fetching and discovery.
// The core parses the same bytes strictly and decides.
type looseDoc struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Manifests     []looseDesc       `json:"manifests"`
	Config        *looseDesc        `json:"config"`
	Layers        []looseDesc       `json:"layers"`
	Subject       *looseDesc        `json:"subject"`
	FSLayers      []struct{}        `json:"fsLayers"`
	Annotations   map[string]string `json:"annotations"`
}

type looseDesc struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     *verify.Platform  `json:"platform,omitempty"`
}

func parseLoose(b []byte) *looseDoc {
	var d looseDoc
	if json.Unmarshal(b, &d) != nil {
		return nil
	}
	return &d
}

// The manifest media types.
const (
	mtOCIIndex      = "application/vnd.oci.image.index.v1+json"
	mtOCIManifest   = "application/vnd.oci.image.manifest.v1+json"
	mtDockerList    = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtDockerV2      = "application/vnd.docker.distribution.manifest.v2+json"
	mtSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mtSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

func knownManifestType(mt string) bool {
	switch mt {
	case mtOCIIndex, mtOCIManifest, mtDockerList, mtDockerV2:
		return true
	}
	return false
}

func isIndexType(mt string) bool { return mt == mtOCIIndex || mt == mtDockerList }

func isSchema1(contentType string, doc *looseDoc) bool {
	if contentType == mtSchema1 || contentType == mtSchema1Signed {
		return true
	}
	return doc != nil && (doc.SchemaVersion == 1 || len(doc.FSLayers) > 0 || doc.MediaType == mtSchema1 || doc.MediaType == mtSchema1Signed)
}

// mediaTypeOf names a document's media type: its own mediaType field, else
// a known Content-Type, else what its shape says.
func mediaTypeOf(doc *looseDoc, contentType string) string {
	switch {
	case doc != nil && doc.MediaType != "":
		return doc.MediaType
	case knownManifestType(contentType):
		return contentType
	case doc != nil && doc.Manifests != nil:
		return mtOCIIndex
	default:
		return mtOCIManifest
	}
}

func mediaTypeOnly(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// Files.

type memFile struct {
	info fileinfo.Info
	*bytes.Reader
}

func newMemFile(name string, b []byte) *memFile {
	return &memFile{info: fileinfo.File(name[strings.LastIndexByte(name, '/')+1:], int64(len(b))), Reader: bytes.NewReader(b)}
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type blobFile struct {
	info fileinfo.Info
	rc   io.ReadCloser
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.info, nil }
func (b *blobFile) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b *blobFile) Close() error               { return b.rc.Close() }

type dirFile struct {
	name    string
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return fileinfo.Dir(d.name), nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
