"""Brand matching: the query language (syntax tree, parser, compiler) and the matcher over configured brands.

syntax.py   the tree (Term, And, Or, Not), its canonical text and its reference meaning (`evaluate`)
parser.py   query text → tree, with errors naming the position
compiler.py tree → one fast test function, plus the trigger words that decide when to run it
brands.py   `[[brand]]` settings and `BrandMatcher`, which the pipeline calls for every polled mention
"""

from listener.matching.brands import BrandMatcher, BrandSettings, brand_node, compile_brand
from listener.matching.parser import QuerySyntaxError, parse_phrase, parse_query
from listener.matching.syntax import And, Node, Not, Or, Term, evaluate, positive_terms, render, term_matches

__all__ = [
    "And", "BrandMatcher", "BrandSettings", "Node", "Not", "Or", "QuerySyntaxError", "Term", "brand_node",
    "compile_brand", "evaluate", "parse_phrase", "parse_query", "positive_terms", "render", "term_matches",
]
