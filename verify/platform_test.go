package verify_test

import (
	"testing"

	"github.com/imgproof/imgproof/verify"
)

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]verify.Platform{
		"linux/amd64":    {OS: "linux", Architecture: "amd64"},
		"linux/arm64/v8": {OS: "linux", Architecture: "arm64", Variant: "v8"},
	} {
		if p, ok := verify.ParsePlatform(in); !ok || p != want {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v", in, p, ok, want)
		}
	}
	// A trailing slash is not an empty variant.
	for _, bad := range []string{"", "linux", "linux/", "/amd64", "a/b/c/d", "a/b/", "a//c"} {
		if p, ok := verify.ParsePlatform(bad); ok {
			t.Errorf("ParsePlatform(%q) = %+v, accepted", bad, p)
		}
	}
}
