"""Every message the export readers show, in one catalog (``readers``) shared by all formats.

The formats report the same problems (no header row, a duplicate header, empty
rows) in the same words, so the texts live once here rather than in each reader.
"""

from __future__ import annotations

from tagger.i18n import Catalog

TEXT = Catalog(
    "readers",
    {
        "not_found": {"zh": "找不到这个文件", "en": "file not found"},
        "not_a_file": {"zh": "这不是一个文件（是文件夹？）", "en": "this is not a file (a folder?)"},
        "empty_file": {"zh": "文件是空的（0 字节）", "en": "the file is empty (0 bytes)"},
        "lock_file": {
            "zh": "这是 Excel 打开 '{original}' 时生成的锁定文件（以 ~$ 开头），不是数据。请选择 '{original}' 本身",
            "en": "this is Excel's lock file for '{original}' (names starting with ~$ exist while the workbook "
            "is open), not data; choose '{original}' itself",
        },
        "html_as_excel": {
            "zh": "这个文件实际是 HTML 表格（网页），不是 Excel 文件，只是扩展名为 {ext}。"
            "请在 Excel 中打开它，另存为 xlsx（Excel 工作簿）后重试",
            "en": "this file is actually an HTML table (a web page) with a {ext} extension, not an Excel file. "
            "Open it in Excel, save it as xlsx (Excel Workbook) and try again",
        },
        "xml2003_as_excel": {
            "zh": "这个文件实际是 XML 电子表格 2003 格式，不是 xlsx/xls。"
                  "请在 Excel 中打开它，另存为 xlsx（Excel 工作簿）后重试",
            "en": "this file is actually an XML Spreadsheet 2003 file, not xlsx/xls. "
            "Open it in Excel, save it as xlsx (Excel Workbook) and try again",
        },
        "encrypted": {
            "zh": "这是加密（设置了打开密码）的 Excel 工作簿，无法读取。请在 Excel 中打开，"
            "在“文件 > 信息 > 保护工作簿 > 用密码进行加密”中清空密码，另存为 xlsx 后重试",
            "en": "this is an encrypted (password-protected) Excel workbook and cannot be read. Open it in "
            "Excel, clear the password under File > Info > Protect Workbook > Encrypt with Password, "
            "save it as xlsx and try again",
        },
        "unreadable_excel": {
            "zh": "无法作为 Excel 工作簿读取（{detail}）。请在 Excel 中打开它，另存为 xlsx 后重试",
            "en": "cannot be read as an Excel workbook ({detail}); open it in Excel, save it as xlsx and try again",
        },
        "binary_file": {
            "zh": "既不是 Excel 工作簿，也不是文本（CSV）文件",
            "en": "this is neither an Excel workbook nor a text (CSV) file",
        },
        "extension_mismatch": {
            "zh": "扩展名是 {ext}，但内容是{real}，已按{real}读取",
            "en": "the extension is {ext} but the content is {real}; read it as {real}",
        },
        "format_excel": {"zh": " Excel 工作簿", "en": "an Excel workbook"},
        "format_text": {"zh": "文本（CSV）", "en": "text (CSV)"},
        "text_has_no_sheets": {
            "zh": "文本文件没有工作表，已忽略指定的工作表 '{sheet}'",
            "en": "a text file has no sheets; ignored the requested sheet '{sheet}'",
        },
        "sheet_not_found": {
            "zh": "没有名为 '{sheet}' 的工作表。工作表有：{sheets}",
            "en": "there is no sheet named '{sheet}'; the sheets are: {sheets}",
        },
        "sheet_item": {"zh": "'{name}'（{state}）", "en": "'{name}' ({state})"},
        "state_visible": {"zh": "可见", "en": "visible"},
        "state_hidden": {"zh": "隐藏", "en": "hidden"},
        "state_very_hidden": {"zh": "深度隐藏", "en": "very hidden"},
        "no_visible_sheet": {
            "zh": "没有可见的工作表。工作表有：{sheets}",
            "en": "there is no visible worksheet; the sheets are: {sheets}",
        },
        "no_header_in_sheets": {
            "zh": "没有找到含用户表头的可见工作表。工作表有：{sheets}。{detail}",
            "en": "no visible sheet has the user headers; the sheets are: {sheets}. {detail}",
        },
        "no_header_first_sheet": {
            "zh": "第一个可见工作表 '{sheet}' {detail}",
            "en": "In the first visible sheet '{sheet}', {detail}",
        },
        "no_header": {
            "zh": "缺少必需列：{missing}（前 {scan} 行中没有含全部必需列的表头行）。最接近的表头在第 {row} 行：{seen}。"
                  "若其中一列就是所缺的列，请在 tagger.toml 中指定，例如 [columns] {example}，"
                  "或运行 tagger wizard 选择",
            "en": "missing required columns: {missing} (no row in the first {scan} rows has them all). The closest "
                  "header is row {row}: {seen}. If one of these is the missing column, map it in tagger.toml, e.g. "
                  "[columns] {example}, or run tagger wizard to choose it",
        },
        "your_header": {"zh": "你的列名", "en": "your header"},
        "no_header_empty": {
            "zh": "前 {scan} 行都是空的，找不到表头（需要：{missing}）",
            "en": "the first {scan} rows are empty, so there is no header row (needed: {missing})",
        },
        "hidden_has_header": {
            "zh": "隐藏的工作表 {sheets} 有表头；如确实要用它，请指定工作表",
            "en": "hidden sheet {sheets} has the headers; name it explicitly if it is the one to use",
        },
        "several_sheets": {
            "zh": "工作表 {others} 也有用户表头，本次只读取了第一个 '{used}'；如需读取其他工作表，请指定工作表",
            "en": "sheet {others} also has the user headers; only the first, '{used}', was read. "
            "Name the sheet to read another one",
        },
        "duplicate_header": {
            "zh": "列 {first} 和 {second} 的表头都是 '{header}'（第 {row} 行），无法确定用哪一列。"
                  "请删除或重命名其中一列后重试",
            "en": "columns {first} and {second} both have the header '{header}' (row {row}), so it is unclear "
            "which one to use; delete or rename one of them and try again",
        },
        "unnamed_column": {"zh": "列{letter}", "en": "column {letter}"},
        "unnamed_columns": {
            "zh": "列 {letters} 没有表头但有数据，已命名为 {names}",
            "en": "column(s) {letters} have data but no header; named them {names}",
        },
        "empty_rows": {
            "zh": "删除了 {count} 个空行（第 {rows} 行）",
            "en": "dropped {count} empty row(s) (row {rows})",
        },
        "no_data_rows": {
            "zh": "表头（第 {row} 行）下面没有数据行",
            "en": "there are no data rows under the header (row {row})",
        },
        "bad_encoding": {
            "zh": "第 {row} 行（字节 {offset}）无法解码：文件既不是 UTF-8 也不是 GB18030/GBK 编码。"
            "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重试",
            "en": "row {row} (byte {offset}) cannot be decoded: the file is neither UTF-8 nor GB18030/GBK. "
            "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and try again",
        },
        "damaged_utf8": {
            "zh": "文件是 UTF-8 编码，但第 {row} 行（字节 {offset}）有损坏的字节，无法解码。请重新导出该文件",
            "en": "the file is UTF-8 but row {row} (byte {offset}) holds damaged bytes that cannot be decoded; "
            "export the file again",
        },
        "bad_bom_encoding": {
            "zh": "文件开头标明是 {encoding} 编码，但第 {row} 行（字节 {offset}）不是合法的 {encoding}。"
                  "请重新导出该文件",
            "en": "the file starts with a {encoding} byte order mark but row {row} (byte {offset}) is not valid "
            "{encoding}; export the file again",
        },
        "ragged_row": {
            "zh": "第 {row} 行有 {found} 个字段，而表头（第 {header_row} 行）有 {expected} 个。"
            "常见原因：昵称等文本里有没加引号的分隔符（{delimiter}）或换行",
            "en": "row {row} has {found} fields but the header (row {header_row}) has {expected}. "
            "Usually a nickname or other text holds an unquoted delimiter ({delimiter}) or line break",
        },
        "unclosed_quote": {
            "zh": "第 {row} 行开始的引号一直没有闭合，文件在引号内结束",
            "en": "the quote opened in row {row} is never closed; the file ends inside it",
        },
        "quote_swallowed": {
            "zh": "第 {row} 行的引号没有正确闭合，后面的换行和内容被并进了这一行"
                  "（只解析出 {found} 个字段，表头有 {expected} 个）",
            "en": "a quote in row {row} is not closed properly, so the following line breaks and text were "
            "merged into that row ({found} fields found, the header has {expected})",
        },
        "field_too_large": {
            "zh": "第 {row} 行附近有一个超过 {limit} 个字符的字段，通常是某个引号没有闭合",
            "en": "a field near row {row} is longer than {limit} characters, usually an unclosed quote",
        },
        "csv_error": {"zh": "无法解析文本文件：{detail}", "en": "cannot parse the text file: {detail}"},
        "tab": {"zh": "制表符", "en": "tab"},
    },
)

__all__ = ["TEXT"]
