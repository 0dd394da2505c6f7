import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of a parsed S3 response: its name (without namespace prefix), its own
/// text, and its child elements in order.
struct S3XMLNode: Sendable {
    var name: String
    var text = ""
    var children: [S3XMLNode] = []

    /// The first child named `name`.
    func child(_ name: String) -> S3XMLNode? { children.first { $0.name == name } }

    /// Every child named `name`.
    func children(_ name: String) -> [S3XMLNode] { children.filter { $0.name == name } }

    /// The text of the first child named `name`.
    func text(of name: String) -> String? { child(name)?.text }

    /// Parses a whole document and returns its root element, or `nil` when the bytes are
    /// not well-formed XML or not UTF-8 (which S3 always sends). External entities are never resolved.
    static func parse(_ bytes: [UInt8]) -> S3XMLNode? {
        // FoundationXML traps on element names that are not valid UTF-8 (`<\xFFs/>`, found by
        // fuzzing): such bytes never reach it.
        guard !bytes.isEmpty, String(validating: bytes, as: UTF8.self) != nil, !hasProcessingInstruction(bytes) else { return nil }
        let parser = XMLParser(data: Data(bytes))
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder()
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    /// Whether `bytes` hold a processing instruction other than a leading XML declaration.
    /// FoundationXML dereferences a null pointer on one without data (`<?s?>`, found by
    /// fuzzing), and S3 sends none: such documents are refused before they reach it.
    static func hasProcessingInstruction(_ bytes: [UInt8]) -> Bool {
        let declaration = Array("<?xml".utf8)
        let isDeclared = bytes.starts(with: declaration) && bytes.count > declaration.count
            && [0x20, 0x09, 0x0d, 0x0a].contains(bytes[declaration.count])
        // Every "<?" but that one: a declaration left unclosed must not make a later "?>" its end.
        var i = isDeclared ? 1 : 0
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "<") && bytes[i + 1] == UInt8(ascii: "?") { return true }
            i += 1
        }
        return false
    }
}

/// Builds the tree from the parser's events.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [S3XMLNode] = []
    var root: S3XMLNode?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(S3XMLNode(name: local))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let done = stack.popLast() else { return }
        if stack.isEmpty {
            root = done
        } else {
            stack[stack.count - 1].children.append(done)
        }
    }
}

/// Escapes text for an XML element's content.
func xmlEscape(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(character)
        }
    }
    return out
}
