package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Binaries are the built pacerd and pcsctl.
type Binaries struct {
	Pacerd, Pcsctl string
}

// Build compiles pacerd and pcsctl into dir. It finds the module root
// from this source file, so it works from any test package.
func Build(dir string) (Binaries, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	b := Binaries{Pacerd: filepath.Join(dir, "pacerd"), Pcsctl: filepath.Join(dir, "pcsctl")}
	for bin, pkg := range map[string]string{b.Pacerd: "./cmd/pacerd", b.Pcsctl: "./cmd/pcsctl"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return b, nil
}
