package lskel

// View returns the decoded contents of the named blob literal without copying, or nil when the
// header has none. The slice is shared with f and with every File derived from it: callers
// must not modify it (its capacity is its length, so an append copies). Blob returns a copy.
func (f *File) View(name string) []byte {
	l := f.blobs[name]
	if l == nil {
		return nil
	}
	return l.data[:len(l.data):len(l.data)]
}
