"""Writes the C++ definitions of the admin pages' assets (assets.h).

Usage: embed_assets.py OUT.cc NAME=FILE...

Each FILE becomes `const PageAsset NAME` holding its text as a raw string
literal and the base64 SHA-256 of that text (the Content-Security-Policy hash
of an inline <script> or <style> with exactly that text). A file that could
end its own element early (`</script`, `</style`) or that the raw literal
cannot hold is refused, so the build fails instead of a page breaking.
"""

import base64
import hashlib
import sys

DELIMITER = "tbasset"


def main(argv):
    out_path, pairs = argv[1], argv[2:]
    lines = [
        "// Generated from admin/pages/assets/ by admin/pages/embed_assets.py.",
        '#include "tracebridge/admin/pages/assets.h"',
        "",
        "namespace tracebridge {",
        "",
    ]
    for pair in pairs:
        name, path = pair.split("=", 1)
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode("utf-8")  # refuses anything but UTF-8
        lowered = text.lower()
        if "</script" in lowered or "</style" in lowered or "<!--" in lowered:
            sys.exit(f"{path}: contains a sequence that ends or confuses its element")
        if ")" + DELIMITER + '"' in text:
            sys.exit(f"{path}: contains the raw-string delimiter")
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        lines.append(f"// {path}")
        lines.append(f'static const char {name}Text[] = R"{DELIMITER}({text}){DELIMITER}";')
        lines.append(f"const PageAsset {name} = {{absl::string_view({name}Text, "
                     f"sizeof({name}Text) - 1), \"{digest}\"}};")
        lines.append("")
    lines.append("}  // namespace tracebridge")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv)
