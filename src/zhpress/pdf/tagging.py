"""Tagged PDF clean-up: book furniture (running heads, folios) marked as pagination artifacts.

WeasyPrint tags the text of page-margin boxes as marked content whose structure elements it leaves out of
the structure tree, so a screen reader meets it nowhere and a checker sees untagged-looking content. PDF/UA
wants it as `/Artifact` with `/Type /Pagination`: a reader of the article then hears each sentence once.
"""

from __future__ import annotations

from typing import Any

import pikepdf


def _reachable(root: Any) -> set[tuple[int, int]]:
    """The object ids of every structure element reachable from the structure tree root."""
    seen: set[tuple[int, int]] = set()
    stack = [root.get("/K")]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if isinstance(node, pikepdf.Array):
            stack.extend(node)
        elif isinstance(node, pikepdf.Dictionary):
            if node.is_indirect:
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            if "/K" in node:
                stack.append(node.K)
    return seen


def _parent_tree_arrays(root: Any) -> dict[int, Any]:
    """StructParents key → the array mapping that page's MCIDs to structure elements."""
    out: dict[int, Any] = {}
    stack = [root.get("/ParentTree")]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if "/Kids" in node:
            stack.extend(node.Kids)
        nums = node.get("/Nums")
        if nums is not None:
            for i in range(0, len(nums), 2):
                out[int(nums[i])] = nums[i + 1]
    return out


def mark_furniture_as_artifacts(pdf: pikepdf.Pdf) -> int:
    """Turn marked content whose structure element is outside the structure tree into pagination
    artifacts; return how many sequences were changed. A PDF without a structure tree is left alone."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return 0
    reachable = _reachable(root)
    parents = _parent_tree_arrays(root)
    changed = 0
    for page in pdf.pages:
        key = page.obj.get("/StructParents")
        mapping = parents.get(int(key)) if key is not None else None
        if mapping is None:
            continue
        orphans = {
            mcid
            for mcid, elem in enumerate(mapping)
            if isinstance(elem, pikepdf.Dictionary) and elem.is_indirect and elem.objgen not in reachable
        }
        if not orphans:
            continue
        instructions = pikepdf.parse_content_stream(page)
        rewritten = []
        for instruction in instructions:
            operands, operator = instruction.operands, instruction.operator
            if str(operator) == "BDC" and len(operands) == 2 and isinstance(operands[1], pikepdf.Dictionary):
                marked = operands[1].get("/MCID")
                if marked is not None and int(marked) in orphans:
                    artifact = [pikepdf.Name.Artifact, pikepdf.Dictionary(Type=pikepdf.Name.Pagination)]
                    rewritten.append(pikepdf.ContentStreamInstruction(artifact, operator))
                    changed += 1
                    continue
            rewritten.append(pikepdf.ContentStreamInstruction(operands, operator))
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(rewritten))
        for mcid in orphans:
            mapping[mcid] = pikepdf.Object.parse(b"null")
    return changed
