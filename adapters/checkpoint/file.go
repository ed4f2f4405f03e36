// Package checkpoint keeps a position in a file, for the dispatcher of an embedded herald.
package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// File keeps a position in one file, replaced atomically (write, sync, rename).
type File struct {
	path string
}

// NewFile keeps the position at path; the directory must exist.
func NewFile(path string) *File { return &File{path: path} }

// Load returns the position, 0 when none was saved.
func (f *File) Load(context.Context) (uint64, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	p, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("checkpoint file %s is damaged (%q); remove it to dispatch again from the checkpoint's last copy in the event log (the ledger keeps what was delivered from being sent twice)", f.path, data)
	}
	return p, nil
}

// Save writes the position durably.
func (f *File) Save(_ context.Context, position uint64) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strconv.FormatUint(position, 10) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}
