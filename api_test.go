package bpfsig_test

import (
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoInternalTypesInPublicAPI walks the exported API of every public package of the module
// (type-checked from source) and fails on any exported declaration whose type mentions a type
// from an internal/ package: a program outside the module could not name it.
func TestNoInternalTypesInPublicAPI(t *testing.T) {
	// Export data from the build cache: much faster than type-checking from source.
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}} {{.Export}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	exports := map[string]string{}
	var ours []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, file, _ := strings.Cut(line, " ")
		exports[path] = file
		if strings.HasPrefix(path, "github.com/bpfsig/bpfsig") {
			ours = append(ours, path)
		}
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	checked := 0
	for _, path := range ours {
		if strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/cmd/bpfsig") {
			continue
		}
		pkg, err := imp.Import(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		checked++
		for _, bad := range internalRefs(pkg) {
			t.Errorf("%s", bad)
		}
	}
	if checked < 8 {
		t.Fatalf("checked %d public packages, expected at least 8 (root, compat, legacy, chain, raw, policy, compare, migrate)", checked)
	}
}

// internalRefs lists "pkg.Name: mentions internal/x.T" for every exported object of pkg.
func internalRefs(pkg *types.Package) []string {
	var out []string
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		where := pkg.Path() + "." + name
		seen := map[types.Type]bool{}
		check := func(what string, typ types.Type) {
			if p := findInternal(typ, seen); p != "" {
				out = append(out, where+what+": mentions "+p)
			}
		}
		if tn, ok := obj.(*types.TypeName); ok {
			named, isNamed := tn.Type().(*types.Named)
			if tn.IsAlias() || !isNamed {
				check("", tn.Type())
				continue
			}
			check("", named.Underlying())
			for i := 0; i < named.NumMethods(); i++ {
				if m := named.Method(i); m.Exported() {
					check("."+m.Name(), m.Type())
				}
			}
			if ptr := types.NewPointer(named); ptr != nil {
				ms := types.NewMethodSet(ptr)
				for i := 0; i < ms.Len(); i++ {
					if m := ms.At(i).Obj(); m.Exported() {
						check("."+m.Name(), m.Type())
					}
				}
			}
			continue
		}
		check("", obj.Type())
	}
	return out
}

// findInternal returns the qualified name of the first internal type reachable from t through
// exported structure (unexported struct fields are invisible to users and skipped).
func findInternal(t types.Type, seen map[types.Type]bool) string {
	if t == nil || seen[t] {
		return ""
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		if p := t.Obj().Pkg(); p != nil && strings.Contains(p.Path(), "/internal/") {
			return p.Path() + "." + t.Obj().Name()
		}
		if args := t.TypeArgs(); args != nil {
			for i := 0; i < args.Len(); i++ {
				if r := findInternal(args.At(i), seen); r != "" {
					return r
				}
			}
		}
		return "" // a public named type is checked where it is declared
	case *types.Alias:
		return findInternal(types.Unalias(t), seen)
	case *types.Pointer:
		return findInternal(t.Elem(), seen)
	case *types.Slice:
		return findInternal(t.Elem(), seen)
	case *types.Array:
		return findInternal(t.Elem(), seen)
	case *types.Map:
		if r := findInternal(t.Key(), seen); r != "" {
			return r
		}
		return findInternal(t.Elem(), seen)
	case *types.Chan:
		return findInternal(t.Elem(), seen)
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := 0; i < tup.Len(); i++ {
				if r := findInternal(tup.At(i).Type(), seen); r != "" {
					return r
				}
			}
		}
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if f := t.Field(i); f.Exported() || f.Embedded() {
				if r := findInternal(f.Type(), seen); r != "" {
					return r
				}
			}
		}
	case *types.Interface:
		for i := 0; i < t.NumMethods(); i++ {
			if r := findInternal(t.Method(i).Type(), seen); r != "" {
				return r
			}
		}
	}
	return ""
}

// TestInternalRefsCatches: the walker above reports an internal type in a signature, a field, a
// method and an alias, and passes a package that only uses public types.
func TestInternalRefsCatches(t *testing.T) {
	in := types.NewPackage("example.com/m/internal/x", "x")
	secret := types.NewNamed(types.NewTypeName(token.NoPos, in, "Secret", nil), types.NewStruct(nil, nil), nil)
	pub := types.NewPackage("example.com/m/pub", "pub")
	sc := pub.Scope()
	sig := types.NewSignatureType(nil, nil, nil, types.NewTuple(types.NewVar(token.NoPos, pub, "s", types.NewPointer(secret))), nil, false)
	sc.Insert(types.NewFunc(token.NoPos, pub, "Open", sig))
	field := types.NewField(token.NoPos, pub, "S", types.NewSlice(secret), false)
	sc.Insert(types.NewTypeName(token.NoPos, pub, "Box", types.NewStruct([]*types.Var{field}, nil)))
	hidden := types.NewField(token.NoPos, pub, "s", secret, false)
	okT := types.NewNamed(types.NewTypeName(token.NoPos, pub, "Fine", nil), types.NewStruct([]*types.Var{hidden}, nil), nil)
	sc.Insert(okT.Obj())
	sc.Insert(types.NewFunc(token.NoPos, pub, "Plain", types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(types.NewVar(token.NoPos, pub, "", types.Typ[types.String])), false)))
	got := internalRefs(pub)
	if len(got) != 2 || !strings.Contains(strings.Join(got, " "), "pub.Open") || !strings.Contains(strings.Join(got, " "), "pub.Box") {
		t.Fatalf("internalRefs = %q, want exactly pub.Box and pub.Open", got)
	}
}
