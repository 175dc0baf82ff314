package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/verify"
)

// The transports a SOURCE can name, as skopeo names them. A bare local
// path has transportPath: its format is detected from its content.
const (
	transportOCI           = "oci"
	transportOCIArchive    = "oci-archive"
	transportDockerArchive = "docker-archive"
	transportDocker        = "docker"
	transportPath          = "path"
)

// registrySource, when set by a native-only file, verifies a registry
// reference. It is nil when registry support is not built in.
var registrySource func(ctx context.Context, ref string, opts *verify.Options) (*verify.Result, error)

// registryFS, when set by a native-only file, opens a registry reference
// as an OCI layout, for commands that read a source's files (conformance,
// copy). A reference that cannot be opened is an error.
var registryFS func(ctx context.Context, ref string, opts *verify.Options) (fs.FS, error)

// sourceSpec is a parsed SOURCE argument.
type sourceSpec struct {
	// Arg is the argument as given.
	Arg string
	// Transport is one of the transport constants.
	Transport string
	// Path is the local file or directory; empty for a registry.
	Path string
	// Ref is the registry reference, or for a local transport the
	// optional image name after the path (oci:DIR:REF).
	Ref string
}

// local reports whether the source is a file or a directory.
func (s sourceSpec) local() bool { return s.Transport != transportDocker }

// parseSource names what SOURCE is without touching the network:
//
//   - oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF] are
//     local, and so is a bare argument that exists or looks like a path (it
//     starts with /, . or ~, has a path separator before any : or @, or
//     ends in .tar, .tgz or .tar.gz);
//   - docker://REF and registry:REF name a registry, and so does a bare
//     argument that can only be a reference: one with a tag, a digest or a
//     registry port (a : or @ before any path separator).
//
// Anything else is a usage error; a missing local path is one too, and
// the error names the file.
func parseSource(arg string) (sourceSpec, error) {
	s := sourceSpec{Arg: arg}
	if arg == "" {
		return s, usageError{errors.New("SOURCE is empty")}
	}
	for _, t := range []string{transportOCI, transportOCIArchive, transportDockerArchive} {
		if rest, ok := strings.CutPrefix(arg, t+":"); ok {
			s.Transport = t
			s.Path, s.Ref, _ = strings.Cut(rest, ":")
			if s.Path == "" {
				return s, usageError{fmt.Errorf("%s: no path after %q", arg, t+":")}
			}
			s.Path = expandHome(s.Path)
			return s, s.checkLocal()
		}
	}
	for _, p := range []string{"docker://", "registry://", "registry:"} {
		if rest, ok := strings.CutPrefix(arg, p); ok {
			if rest == "" {
				return s, usageError{fmt.Errorf("%s: no reference after %q", arg, p)}
			}
			s.Transport, s.Ref = transportDocker, rest
			return s, nil
		}
	}
	s.Transport, s.Path = transportPath, expandHome(arg)
	if _, err := os.Stat(s.Path); err == nil || looksLikePath(arg) {
		err := s.checkLocal()
		if err != nil && !plainPath(arg) {
			// ghcr.io/org/app:1 is a path here: say how to name a registry.
			err = usageError{fmt.Errorf("%w (to read a registry, write docker://%s)", err, arg)}
		}
		return s, err
	}
	if onlyReference(arg) {
		s.Transport, s.Path, s.Ref = transportDocker, "", arg
		return s, nil
	}
	return s, usageError{fmt.Errorf("%s: no such file or directory (to read a registry, write docker://%s)", arg, arg)}
}

// checkLocal checks that a local source exists and is of the kind its
// transport names.
func (s sourceSpec) checkLocal() error {
	st, err := os.Stat(s.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usageError{fmt.Errorf("%s: no such file or directory", s.Path)}
	case err != nil:
		return usageError{err}
	case s.Transport == transportOCI && !st.IsDir():
		return usageError{fmt.Errorf("%s: %s: not a directory (an OCI layout directory; name an archive oci-archive:%s)", s.Arg, s.Path, s.Path)}
	case (s.Transport == transportOCIArchive || s.Transport == transportDockerArchive) && st.IsDir():
		return usageError{fmt.Errorf("%s: %s is a directory, not an archive file (name a layout directory oci:%s)", s.Arg, s.Path, s.Path)}
	}
	return nil
}

// looksLikePath reports whether a bare argument can only be meant as a
// local path: it is plainly a path (plainPath), or it has a path
// separator before any : or @.
func looksLikePath(s string) bool {
	if plainPath(s) {
		return true
	}
	i := strings.IndexAny(s, ":@")
	if i < 0 {
		i = len(s)
	}
	return strings.ContainsAny(s[:i], `/`+string(filepath.Separator))
}

// plainPath reports whether a bare argument starts with /, . or ~, or
// ends in .tar, .tgz or .tar.gz: no registry reference does.
func plainPath(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") {
		return true
	}
	for _, ext := range []string{".tar", ".tgz", ".tar.gz"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	return false
}

// onlyReference reports whether a bare argument that is not a path can
// only be a registry reference: it has a tag, a digest or a registry port
// before any path separator.
func onlyReference(s string) bool {
	return strings.IndexAny(s, ":@") > 0
}

// expandHome replaces a leading ~/ with the home directory, for paths the
// shell did not expand (quoted, or in a flag's value).
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// openSource verifies SOURCE (see parseSource). The report's source names
// the transport that was used.
func openSource(ctx context.Context, arg string, opts *verify.Options) (*verify.Result, error) {
	s, err := parseSource(arg)
	if err != nil {
		return nil, err
	}
	return openSpec(ctx, s, opts)
}

// openSpec verifies a parsed SOURCE. Before any claim is checked
// (opts.Claims), the report names the transport that was used and the
// content is held to what SOURCE names: the format of its transport and
// the images of its REF.
func openSpec(ctx context.Context, s sourceSpec, opts *verify.Options) (*verify.Result, error) {
	o := verify.Options{}
	if opts != nil {
		o = *opts
	}
	var serr error
	claims := o.Claims
	o.Claims = func(ctx context.Context, res *verify.Result) {
		if serr = s.narrow(res); serr == nil && claims != nil {
			claims(ctx, res)
		}
	}
	res, err := s.verify(ctx, &o)
	if err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	return res, nil
}

// verify runs the verifier on the file, directory or registry reference.
func (s sourceSpec) verify(ctx context.Context, opts *verify.Options) (*verify.Result, error) {
	if !s.local() {
		if registrySource == nil {
			return nil, usageError{fmt.Errorf("%s: this build cannot read registries", s.Arg)}
		}
		return registrySource(ctx, s.Ref, opts)
	}
	st, err := os.Stat(s.Path)
	if err != nil {
		return nil, usageError{err}
	}
	if st.IsDir() {
		// The root and the file below stay open until the process exits:
		// commands may read blobs through the Result after verification
		// has returned.
		root, err := os.OpenRoot(s.Path)
		if err != nil {
			return nil, err
		}
		return verify.Dir(ctx, root.FS(), s.Path, opts), nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, err
	}
	return verify.Archive(ctx, f, st.Size(), s.Path, opts), nil
}

// narrow is the stage of a local source's run between its content and
// its claims: the report names the transport, and the content must be of
// the transport's format and hold the images REF names.
func (s sourceSpec) narrow(res *verify.Result) error {
	if !s.local() {
		res.Report.Source.Transport = transportDocker
		return nil
	}
	if s.Transport != transportPath {
		// A bare path is left out of the JSON report, which then stays
		// byte for byte the browser's, which is handed files, not names.
		res.Report.Source.Transport = s.Transport
	}
	if err := s.checkFormat(res.Report); err != nil {
		return err
	}
	if s.Ref != "" {
		return selectRef(res, s)
	}
	return nil
}

// checkFormat refuses an explicit transport that the content contradicts:
// an OCI archive named docker-archive:, or a classic docker save (no
// index.json) named oci-archive: or oci:.
func (s sourceSpec) checkFormat(r *verify.Report) error {
	f := r.Source.Format
	if f == "" || r.Outcome() != verify.Verified {
		return nil // a damaged source is reported as it is
	}
	hasIndex := f != verify.FormatDockerArchive
	for _, v := range r.Source.Views {
		if v == "index.json" {
			hasIndex = true
		}
	}
	switch {
	case s.Transport == transportDockerArchive && f != verify.FormatDockerArchive:
		return usageError{fmt.Errorf("%s: %s holds an %s, not a docker save archive (name it oci-archive:%s)", s.Arg, s.Path, f, s.Path)}
	case (s.Transport == transportOCIArchive || s.Transport == transportOCI) && !hasIndex:
		return usageError{fmt.Errorf("%s: %s is a classic docker save archive with no OCI index.json (name it docker-archive:%s)", s.Arg, s.Path, s.Path)}
	}
	return nil
}

// selectRef keeps only the images that the source names ref, as skopeo's
// oci:DIR:REF and docker-archive:FILE:REF do: the images under an
// index.json entry whose org.opencontainers.image.ref.name is ref, or
// images tagged ref (docker save RepoTags; a name without a tag means
// :latest). The others were still verified. The top digest becomes the
// named entry's. A name that no image carries is a usage error.
func selectRef(res *verify.Result, s sourceSpec) error {
	r := res.Report
	var names []string
	var under []string // paths of the index.json entries named ref
	var top *string
	for _, root := range res.Roots() {
		n := root.Descriptor.Annotations[ocispec.AnnotationRefName]
		if n == "" {
			continue
		}
		names = append(names, n)
		if n == s.Ref {
			under = append(under, root.Path)
			if isIndex(root.Descriptor.MediaType) && len(under) == 1 {
				d := root.Descriptor.Digest.String()
				top = &d
			}
		}
	}
	var keep []verify.Image
	for _, img := range r.Images {
		match := false
		for _, p := range under {
			match = match || img.Path == p || strings.HasPrefix(img.Path, p+"/")
		}
		for _, n := range img.RefNames {
			names = append(names, n)
			match = match || n == s.Ref || n == s.Ref+":latest"
		}
		if match {
			keep = append(keep, img)
		}
	}
	if len(keep) == 0 && r.Outcome() != verify.Verified {
		return nil // a damaged source is reported as it is
	}
	if len(keep) == 0 {
		have := "it names no image"
		if len(names) > 0 {
			slices.Sort(names)
			have = "its names are " + strings.Join(slices.Compact(names), ", ")
		}
		return usageError{fmt.Errorf("%s: no image named %q in %s (%s)", s.Arg, s.Ref, s.Path, have)}
	}
	r.Images = keep
	r.IndexDigest = top
	r.Source.Reference = s.Ref
	return nil
}

// isIndex reports whether a media type is an image index's.
func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == "application/vnd.docker.distribution.manifest.list.v2+json"
}
