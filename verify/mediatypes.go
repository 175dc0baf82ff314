package verify

import "strings"

// Media types the verifier knows. Others are verified by digest only.
const (
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIConfig      = "application/vnd.oci.image.config.v1+json"
	MediaTypeOCIEmpty       = "application/vnd.oci.empty.v1+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeDockerForeign  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	MediaTypeInToto         = "application/vnd.in-toto+json"

	mediaTypeSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// docKind classifies a document.
type docKind int

const (
	kindUnknown docKind = iota
	kindIndex
	kindManifest
	kindSchema1
)

func kindOfMediaType(mt string) docKind {
	switch mt {
	case MediaTypeOCIIndex, MediaTypeDockerList:
		return kindIndex
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		return kindManifest
	case mediaTypeSchema1, mediaTypeSchema1Signed:
		return kindSchema1
	}
	return kindUnknown
}

func (k docKind) String() string {
	switch k {
	case kindIndex:
		return "index"
	case kindManifest:
		return "manifest"
	case kindSchema1:
		return "schema1 manifest"
	}
	return "unknown"
}

// layerCompression returns the compression a tar layer media type
// declares, and whether the type is a tar layer at all.
func layerCompression(mt string) (string, bool) {
	switch mt {
	case MediaTypeDockerLayer, MediaTypeDockerForeign:
		return CompressionGzip, true
	case "application/vnd.docker.image.rootfs.diff.tar":
		return CompressionNone, true
	}
	for _, prefix := range []string{
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
	} {
		rest, ok := strings.CutPrefix(mt, prefix)
		if !ok {
			continue
		}
		switch rest {
		case "":
			return CompressionNone, true
		case "+gzip":
			return CompressionGzip, true
		case "+zstd":
			return CompressionZstd, true
		}
	}
	return "", false
}

// looksLikeLayerTar reports whether mt is in the family of image layer
// media types (a tar, possibly compressed), known or not.
func looksLikeLayerTar(mt string) bool {
	return strings.HasPrefix(mt, "application/vnd.oci.image.layer.") || strings.HasPrefix(mt, "application/vnd.docker.image.rootfs.")
}

func isImageConfig(mt string) bool {
	return mt == MediaTypeOCIConfig || mt == MediaTypeDockerConfig
}

func isForeign(mt string) bool {
	return mt == MediaTypeDockerForeign || strings.HasPrefix(mt, "application/vnd.oci.image.layer.nondistributable.")
}

// howDiffID describes how a diff_id was computed, for findings.
func howDiffID(compression string) string {
	switch compression {
	case CompressionGzip:
		return "sha256(gunzip(blob))"
	case CompressionZstd:
		return "sha256(unzstd(blob))"
	}
	return "sha256(blob)"
}
