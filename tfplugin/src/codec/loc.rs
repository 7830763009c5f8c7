//! Where the codec is inside a value, built on the stack as it descends: the path of an error
//! (`AttrPath`, which allocates) is made only when there is an error to report.

use crate::diag::AttrPath;

#[derive(Clone, Copy)]
pub(crate) enum Loc<'a> {
    Root,
    Attr(&'a Loc<'a>, &'a str),
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

impl<'a> Loc<'a> {
    pub(crate) fn child<'b>(&'b self, name: &'b str) -> Loc<'b> {
        Loc::Attr(self, name)
    }
    pub(crate) fn key<'b>(&'b self, key: &'b str) -> Loc<'b> {
        Loc::Key(self, key)
    }
    pub(crate) fn index(&self, i: usize) -> Loc<'_> {
        Loc::Index(self, i)
    }
    pub(crate) fn path(&self) -> AttrPath {
        match self {
            Loc::Root => AttrPath::root(),
            Loc::Attr(p, n) => p.path().child(n),
            Loc::Key(p, k) => p.path().key(k),
            Loc::Index(p, i) => p.path().index(*i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loc_builds_the_same_path_as_attr_path() {
        let root = Loc::Root;
        let a = root.child("container");
        let b = a.key("k");
        let c = b.index(2);
        let d = c.child("name");
        let want = AttrPath::root()
            .child("container")
            .key("k")
            .index(2)
            .child("name");
        assert_eq!(d.path(), want);
        assert_eq!(root.path(), AttrPath::root());
    }
}
