package verify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/internal/limits"
)

// verifier holds the state of one verification.
type verifier struct {
	ctx      context.Context
	opts     *Options
	lim      limits.Limits
	report   *Report
	st       store
	progress func(Progress)

	nodes        map[digest.Digest]*node
	blobs        map[string]*pendingBlob
	used         map[string]bool // files the walk read or streamed
	blobOrder    []*pendingBlob
	checks       []func()
	descriptors  int
	descLimitHit bool
	rootDepth    int
	archive      bool // the source is a tar archive
	// unselectedCount counts manifests of other platforms checked by
	// digest only.
	unselectedCount int
	// absent lists the platform manifests an index names that the
	// source does not hold.
	absent []absentManifest
	// selectedAbsent is set when an index names the selected platform but
	// its manifest is not in the source (reported as E_BLOB_MISSING).
	selectedAbsent bool
	// indexRead: index.json was read and parsed, so its roots are all it
	// names.
	indexRead bool
	roots     []Root
	// kinds records, by path, the nodes of the graph the walk read and
	// what it decided each is (see Graph).
	kinds map[string]NodeKind

	contentErrors []contentFailure
	// eng holds the engines of this run, or nil for the built-in code.
	eng *engineRun
}

// contentFailure is an error from the layer-content visitor.
type contentFailure struct {
	path string
	err  error
}

// Root is a top-level descriptor of a source: an entry of index.json.
type Root struct {
	Path       string
	Descriptor v1.Descriptor
}

// run verifies a source, with the caller's engines when the source can be
// read again (rereadable): a run in which an engine failed is discarded
// and done again with the built-in code. The run that stands is then
// concluded: its later stages run and its verdict is drawn.
func run(ctx context.Context, name string, opts *Options, rereadable bool, load func(*verifier) error) *Result {
	res := walkSource(ctx, name, opts, rereadable, load)
	res.conclude(ctx, opts)
	return res
}

// walkSource is the content stage of run: the source read, its graph
// walked and its blobs streamed.
func walkSource(ctx context.Context, name string, opts *Options, rereadable bool, load func(*verifier) error) *Result {
	if opts != nil && opts.Engines != nil && rereadable {
		eng := &engineRun{Engines: opts.Engines}
		res := runOnce(ctx, name, opts, eng, load)
		err := eng.failed()
		if err == nil {
			return res
		}
		if opts.Logger != nil {
			opts.Logger.Debug("engine failed; verifying again with the built-in code", "source", name, "err", err)
		}
	}
	return runOnce(ctx, name, opts, nil, load)
}

// conclude runs the stages that follow the content, in order, and then
// finalizes the report: the one place a report gets its verdict. The
// source's transport adds its findings (Options.Amend); the content's
// own rule that nothing verified is never VERIFIED is applied before any
// claim can add checks; the claims are checked (Options.Claims). A panic
// in a stage is a bug and becomes E_INTERNAL, never a pass.
func (res *Result) conclude(ctx context.Context, opts *Options) {
	rep := res.Report
	defer func() {
		if r := recover(); r != nil {
			rep.Add(Finding{Code: CodeInternal, Severity: SeverityError, Path: rep.Source.Path, Message: fmt.Sprintf("internal error: %v", r)})
		}
		rep.Finalize()
	}()
	if opts != nil && opts.Amend != nil {
		opts.Amend(rep)
	}
	rep.requireVerified()
	if opts != nil && opts.Claims != nil {
		opts.Claims(ctx, res)
	}
}

func runOnce(ctx context.Context, name string, opts *Options, eng *engineRun, load func(*verifier) error) (res *Result) {
	v := &verifier{
		eng:    eng,
		ctx:    ctx,
		opts:   opts,
		lim:    opts.limits(),
		report: &Report{Source: Source{Path: name}},
		nodes:  map[digest.Digest]*node{},
		blobs:  map[string]*pendingBlob{},
		used:   map[string]bool{},
		kinds:  map[string]NodeKind{},
	}
	if opts != nil {
		v.progress = opts.Progress
	}
	res = &Result{Report: v.report, v: v}
	defer func() {
		// A panic is a bug; it must never turn into a pass.
		if r := recover(); r != nil {
			v.report.Add(Finding{Code: CodeInternal, Severity: SeverityError, Path: name, Message: fmt.Sprintf("internal error: %v", r)})
		}
	}()
	if err := load(v); err != nil {
		v.loadError(err, name)
		return res
	}
	v.verifySource()
	v.streamBlobs()
	for _, check := range v.checks {
		check()
	}
	for _, cf := range v.contentErrors {
		v.report.Add(Finding{Code: CodeLayerContent, Path: cf.path, Message: cf.err.Error()})
	}
	v.selectPlatform()
	v.reportAbsentPlatforms()
	return res
}

// reportAbsentPlatforms names the platforms whose manifests an index
// lists but the source does not hold. With a platform selected they are
// a note; without one each is E_BLOB_MISSING already, and the note says
// which platforms can be verified with a selection.
func (v *verifier) reportAbsentPlatforms() {
	if len(v.absent) == 0 {
		return
	}
	names := make([]string, 0, len(v.absent))
	absent := map[string]bool{}
	for _, a := range v.absent {
		names = append(names, fmt.Sprintf("%s (%s at %s)", a.platform, a.digest, a.path))
		absent[a.platform.String()] = true
	}
	if len(names) > 10 {
		names = append(names[:10], fmt.Sprintf("and %d more", len(names)-10))
	}
	msg := fmt.Sprintf("%d manifest(s) that the index lists are not in the source, as a single-platform export leaves them: %s", len(v.absent), strings.Join(names, ", "))
	if v.opts == nil || v.opts.Platform == nil {
		var present []string
		for _, img := range v.report.Images {
			if img.Kind == "image" && img.Platform != nil && !absent[img.Platform.String()] && !contains(present, img.Platform.String()) {
				present = append(present, img.Platform.String())
			}
		}
		if len(present) > 0 {
			msg += "; to verify the platform the source holds, select it with --platform " + strings.Join(present, " or --platform ")
		} else {
			msg += "; select a platform the source holds with --platform"
		}
	} else {
		msg += "; nothing of those platforms was verified"
	}
	v.report.Add(Finding{Code: CodeAbsentPlatforms, Path: v.report.Source.Path, Message: msg})
}

func (v *verifier) loadError(err error, name string) {
	var ae *archiveError
	var le *limits.Error
	switch {
	case errors.As(err, &ae):
		if ae.code == CodeUnknownFormat {
			v.report.Source.Format = FormatUnknown
		}
		v.report.Add(Finding{Code: ae.code, Path: ae.name, Message: ae.msg})
	case errors.As(err, &le):
		v.report.Add(Finding{Code: CodeLimitExceeded, Path: name, Message: le.Error()})
	default:
		v.report.Add(Finding{Code: CodeRead, Path: name, Message: err.Error()})
	}
}

func (v *verifier) loadFS(fsys fs.FS) error {
	v.st = &fsStore{fsys: fsys, v: v}
	return nil
}

// loadArchive indexes a plain tar in place, or streams a gzipped one.
func (v *verifier) loadArchive(r io.ReaderAt, size int64) error {
	v.archive = true
	head := make([]byte, 512)
	n, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF && int64(n) < min(size, 512) {
		return fmt.Errorf("reading the first block: %w", err)
	}
	switch detectCompression(head[:n]) {
	case CompressionGzip, CompressionZstd:
		return v.loadStream(io.NewSectionReader(r, 0, size))
	}
	if err := sniffTar(head[:min(int64(n), size)], v.report.Source.Path); err != nil {
		return err
	}
	st, err := indexTar(v, r, size)
	if err != nil {
		return err
	}
	v.st = st
	return nil
}

// loadStream reads a tar or gzipped tar once, to the end of the input.
func (v *verifier) loadStream(r io.Reader) error {
	v.archive = true
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	tr := br
	switch c := detectCompression(head); c {
	case CompressionGzip:
		zr, closeFn, err := v.gunzipArchive(br)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return &archiveError{CodeArchiveTruncated, "archive", "the outer gzip stream ends inside its header"}
			}
			return &archiveError{CodeDecompress, "archive", "outer gzip stream: " + decompressReason(err)}
		}
		defer closeFn()
		v.report.Source.Compressed = true
		ra := newReadAhead(zr)
		defer ra.Close()
		tr = bufio.NewReaderSize(ra, 64<<10)
	case CompressionNone:
	default:
		return &archiveError{CodeUnsupportedCompress, "archive", c + " archives are not supported"}
	}
	// A decompression error here is reported, with its place, by the tar
	// reader that meets it.
	if first, err := tr.Peek(512); err == nil || err == io.EOF {
		if err := sniffTar(first, v.report.Source.Path); err != nil {
			return err
		}
	}
	st, err := indexStream(v.ctx, v, tr)
	if err != nil {
		return err
	}
	v.st = st
	return nil
}

// gunzipArchive decompresses a gzipped archive with the gzip engine, if
// there is one, or with the built-in multi-member decoder.
func (v *verifier) gunzipArchive(r io.Reader) (io.Reader, func(), error) {
	zr, closeFn, err := v.eng.gunzip(r)
	if err != nil {
		return nil, nil, err
	}
	if zr != nil {
		return zr.(io.Reader), closeFn, nil
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	gz, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, err
	}
	gz.Multistream(false)
	return &gzipMembers{br: br, z: gz}, func() { gz.Close() }, nil
}

// errAfterLastMember is input after the last gzip member that is not
// another member.
var errAfterLastMember = fmt.Errorf("%w: bytes after the last gzip member that are not another member", gzip.ErrHeader)

// gzipMembers reads a multi-member gzip stream one member at a time, so
// that what follows the last member is told apart from a cut: the input
// must end right after a member's trailer or hold another member.
type gzipMembers struct {
	br *bufio.Reader
	z  *gzip.Reader
}

func (m *gzipMembers) Read(p []byte) (int, error) {
	n, err := m.z.Read(p)
	if err != io.EOF {
		return n, err
	}
	next, perr := m.br.Peek(2)
	switch {
	case len(next) == 0 && perr == io.EOF:
		return n, io.EOF
	case len(next) == 0:
		return n, perr
	case !bytes.Equal(next, magicGzip):
		return n, errAfterLastMember
	}
	if err := m.z.Reset(m.br); err != nil {
		return n, err
	}
	m.z.Multistream(false)
	return n, nil
}

// contentFor returns the layer-content visitor for a blob, if any.
func (v *verifier) contentFor(name string) func(io.Reader) error {
	if v.opts == nil || v.opts.LayerContent == nil {
		return nil
	}
	visit := v.opts.LayerContent
	return func(r io.Reader) error { return visit(name, r) }
}

// verifySource detects the format from the files present and walks it.
func (v *verifier) verifySource() {
	names := map[string]bool{}
	for _, f := range v.st.files() {
		names[f] = true
	}
	// Metadata files decide what the image is: they must be the files
	// they claim to be, not links that readers may resolve differently.
	for _, meta := range []string{"manifest.json", "index.json", "oci-layout", "repositories"} {
		if names[meta] && v.st.isLink(meta) {
			v.report.Add(Finding{Code: CodeArchiveLink, Path: meta, Message: meta + " is a link; metadata files must be regular files"})
			return
		}
	}
	switch {
	case names["manifest.json"]:
		v.report.Source.Format = FormatDockerArchive
		v.verifyDocker(names)
	case names["index.json"] || names["oci-layout"]:
		if v.report.Source.Format == "" {
			v.report.Source.Format = FormatOCILayout
			if v.archive {
				v.report.Source.Format = FormatOCIArchive
			}
		}
		v.verifyLayout()
	default:
		v.report.Source.Format = FormatUnknown
		v.finding(CodeUnknownFormat, v.report.Source.Path, "neither an OCI layout (oci-layout, index.json) nor a docker save archive (manifest.json)")
	}
}

// verifyLayout checks oci-layout and walks index.json.
func (v *verifier) verifyLayout() {
	b, err := v.st.readFile(v1.ImageLayoutFile, v.lim.ArchiveMetadata)
	switch {
	case errors.Is(err, limits.ErrLimit):
		// A limit hit is a check that could not run, not a broken layout.
		v.readError(err, v1.ImageLayoutFile, v1.ImageLayoutFile)
	case err != nil:
		v.report.Add(Finding{Code: CodeLayoutInvalid, Path: v1.ImageLayoutFile, Message: "the oci-layout file is missing or unreadable: " + err.Error()})
	default:
		var l v1.ImageLayout
		if v.unmarshal(b, &l, v1.ImageLayoutFile, "oci-layout") {
			if l.Version != v1.ImageLayoutVersion {
				v.report.Add(Finding{Code: CodeLayoutInvalid, Path: v1.ImageLayoutFile + "/imageLayoutVersion", Expected: v1.ImageLayoutVersion,
					Actual: l.Version, Message: "unsupported image layout version"})
			} else {
				v.report.Pass()
			}
		}
	}
	idx, ok := v.readIndexJSON()
	if !ok {
		return
	}
	v.indexRead = true
	v.rootDepth = 1
	for i, d := range idx.Manifests {
		v.roots = append(v.roots, Root{Path: fmt.Sprintf("index.json/manifests[%d]", i), Descriptor: d})
	}
	v.walkEntries(idx.Manifests, "index.json", 1)
	v.after(v.reportUnusedBlobs)
	// With one entry, that entry is the image's root.
	if len(idx.Manifests) != 1 {
		v.report.IndexDigest = nil
	}
}

// reportUnusedBlobs notes blobs in a layout that nothing references: they
// are not verified, and nothing in the image depends on them.
func (v *verifier) reportUnusedBlobs() {
	if v.unselectedCount > 0 {
		return // the other platforms' blobs are unread on purpose
	}
	var unused []string
	for _, f := range v.st.files() {
		if strings.HasPrefix(f, "blobs/") && !v.used[f] {
			unused = append(unused, f)
		}
	}
	if len(unused) == 0 {
		return
	}
	sort.Strings(unused)
	msg := fmt.Sprintf("%d blob(s) that nothing references were not verified: %s", len(unused), strings.Join(unused[:min(len(unused), 5)], ", "))
	if len(unused) > 5 {
		msg += ", ..."
	}
	v.report.Add(Finding{Code: CodeUnusedBlob, Path: "blobs", Message: msg})
}

// readIndexJSON reads a layout's index.json: layout metadata, not content
// addressed, so its annotations are reported as unverified.
func (v *verifier) readIndexJSON() (*v1.Index, bool) {
	b, err := v.st.readFile(v1.ImageIndexFile, v.lim.ArchiveMetadata)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			v.finding(CodeLayoutInvalid, v1.ImageIndexFile, "the layout has no index.json")
		} else {
			v.readError(err, v1.ImageIndexFile, v1.ImageIndexFile)
		}
		return nil, false
	}
	var probe docProbe
	if !v.unmarshal(b, &probe, v1.ImageIndexFile, "index.json") {
		return nil, false
	}
	if len(probe.Config) > 0 || len(probe.Layers) > 0 {
		v.finding(CodeLayoutInvalid, v1.ImageIndexFile, "index.json must be an image index, not a manifest")
		return nil, false
	}
	if probe.MediaType != "" && probe.MediaType != MediaTypeOCIIndex {
		v.report.Add(Finding{Code: CodeMediaTypeMismatch, Path: v1.ImageIndexFile + "/mediaType", Expected: MediaTypeOCIIndex, Actual: probe.MediaType,
			Message: "index.json's mediaType must be the OCI index type"})
		return nil, false
	}
	var idx v1.Index
	if !v.unmarshal(b, &idx, v1.ImageIndexFile, "index.json") {
		return nil, false
	}
	markAbsentSizes(b, nil, idx.Manifests)
	if idx.SchemaVersion != 2 {
		v.finding(CodeLayoutInvalid, v1.ImageIndexFile, "schemaVersion must be 2")
		return nil, false
	}
	unverified := len(idx.Annotations) > 0
	for _, m := range idx.Manifests {
		if len(m.Annotations) > 0 {
			unverified = true
		}
	}
	if unverified {
		v.report.Add(Finding{Code: CodeUnverifiedMetadata, Path: v1.ImageIndexFile,
			Message: "annotations in index.json (such as image names) are covered by no digest: they are reported but not verified"})
	}
	v.report.Pass()
	return &idx, true
}

// streamBlobs streams every scheduled blob, largest first, in parallel
// when the store allows it.
func (v *verifier) streamBlobs() {
	jobs := append([]*pendingBlob(nil), v.blobOrder...)
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].job.total > jobs[j].job.total })
	workers := 1
	if v.st.concurrent() {
		workers = v.opts.parallelism()
	}
	ch := make(chan *pendingBlob)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				p.ev, p.err = v.streamCached(p)
			}
		}()
	}
	for _, p := range jobs {
		ch <- p
	}
	close(ch)
	wg.Wait()
}

// selectPlatform keeps only the images of the requested platform.
func (v *verifier) selectPlatform() {
	if v.opts == nil || v.opts.Platform == nil {
		return
	}
	want := *v.opts.Platform
	if v.unselectedCount > 0 {
		v.report.Add(Finding{Code: CodeUnselectedPlatform, Path: v.report.Source.Path,
			Message: fmt.Sprintf("%d manifest(s) of other platforms were checked by digest and size only; their configs and layers were not read", v.unselectedCount)})
	}
	var kept []Image
	for _, img := range v.report.Images {
		if img.Kind == "image" && img.Platform != nil && samePlatform(want, *img.Platform) {
			kept = append(kept, img)
		}
	}
	switch len(kept) {
	case 0:
		if v.selectedAbsent {
			break // the index names the platform; its absent manifest is E_BLOB_MISSING
		}
		v.report.Add(Finding{Code: CodeNoMatchingPlatform, Path: v.report.Source.Path, Expected: want.String(),
			Message: "no image in the source has the requested platform"})
	case 1:
	default:
		v.report.Add(Finding{Code: CodeAmbiguousPlatform, Path: v.report.Source.Path, Expected: want.String(),
			Actual: fmt.Sprintf("%d images", len(kept)), Message: "several images match the requested platform"})
	}
	v.report.Images = kept
}

// Roots returns the top-level descriptors of an OCI layout (index.json),
// including entries that are not images, such as signatures.
func (r *Result) Roots() []Root {
	if r == nil || r.v == nil {
		return nil
	}
	return r.v.roots
}

// UnusedBlobs lists the blobs of a layout or archive that nothing the walk
// read references, by digest, sorted. They are not verified; ReadBlob
// checks one when it is read.
func (r *Result) UnusedBlobs() []digest.Digest {
	if r == nil || r.v == nil || r.v.st == nil || !r.v.indexRead {
		return nil
	}
	var out []digest.Digest
	for _, f := range r.v.st.files() {
		rest, ok := strings.CutPrefix(f, "blobs/")
		if !ok || r.v.used[f] {
			continue
		}
		alg, hex, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		if d, err := parseDigest(alg + ":" + hex); err == nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ReadBlob returns the bytes of the blob with digest d from the source,
// at most limit bytes, after checking that they hash to d.
func (r *Result) ReadBlob(d digest.Digest, limit int64) ([]byte, error) {
	dg, derr := parseDigest(string(d))
	if derr != nil {
		return nil, derr
	}
	if r == nil || r.v == nil || r.v.st == nil {
		return nil, errors.New("the source could not be read")
	}
	b, err := r.v.st.readFile(blobPath(dg), limit)
	if err != nil {
		return nil, err
	}
	if got := digest.NewDigestFromBytes(dg.Algorithm(), hashBytes(dg.Algorithm(), b)); got != dg {
		return nil, fmt.Errorf("%s: %s, got %s", blobPath(dg), CodeDigestMismatch, got)
	}
	return b, nil
}
