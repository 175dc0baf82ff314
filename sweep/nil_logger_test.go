//go:build !js

package sweep

import (
	"io"
	"log"
)

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }
