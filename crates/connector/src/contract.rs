//! (contract suite: written with the first connector)
