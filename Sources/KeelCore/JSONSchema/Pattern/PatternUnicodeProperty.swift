/// The Unicode property a `\p{…}` escape names: a General_Category value (`L`, `Letter`,
/// `gc=Lu`, `General_Category=Decimal_Number`) or one of the binary properties the Swift standard
/// library knows. Scripts (`Script=Greek`) are not: the standard library does not expose them, so such
/// a pattern is refused where it is written rather than matched wrongly.
enum PatternUnicodeProperty: Sendable, Equatable {
    case generalCategories([Unicode.GeneralCategory])
    case binary(Binary)

    /// The binary properties of ECMA-262's table that Swift's `Unicode.Scalar.Properties` answers.
    enum Binary: String, Sendable, CaseIterable {
        case any = "Any"
        case ascii = "ASCII"
        case assigned = "Assigned"
        case alphabetic = "Alphabetic"
        case asciiHexDigit = "ASCII_Hex_Digit"
        case bidiControl = "Bidi_Control"
        case bidiMirrored = "Bidi_Mirrored"
        case cased = "Cased"
        case caseIgnorable = "Case_Ignorable"
        case dash = "Dash"
        case defaultIgnorableCodePoint = "Default_Ignorable_Code_Point"
        case deprecated = "Deprecated"
        case diacritic = "Diacritic"
        case emoji = "Emoji"
        case emojiComponent = "Emoji_Component"
        case emojiModifier = "Emoji_Modifier"
        case emojiModifierBase = "Emoji_Modifier_Base"
        case emojiPresentation = "Emoji_Presentation"
        case extender = "Extender"
        case hexDigit = "Hex_Digit"
        case idContinue = "ID_Continue"
        case idStart = "ID_Start"
        case ideographic = "Ideographic"
        case joinControl = "Join_Control"
        case lowercase = "Lowercase"
        case math = "Math"
        case noncharacterCodePoint = "Noncharacter_Code_Point"
        case patternSyntax = "Pattern_Syntax"
        case patternWhiteSpace = "Pattern_White_Space"
        case quotationMark = "Quotation_Mark"
        case radical = "Radical"
        case sentenceTerminal = "Sentence_Terminal"
        case softDotted = "Soft_Dotted"
        case terminalPunctuation = "Terminal_Punctuation"
        case unifiedIdeograph = "Unified_Ideograph"
        case uppercase = "Uppercase"
        case variationSelector = "Variation_Selector"
        case whiteSpace = "White_Space"
        case xidContinue = "XID_Continue"
        case xidStart = "XID_Start"

        /// The short aliases ECMA-262 accepts beside the long names.
        static let aliases: [String: Binary] = [
            "Alpha": .alphabetic, "AHex": .asciiHexDigit, "Bidi_C": .bidiControl, "Bidi_M": .bidiMirrored,
            "CI": .caseIgnorable, "DI": .defaultIgnorableCodePoint, "Dep": .deprecated, "Dia": .diacritic,
            "EComp": .emojiComponent, "EMod": .emojiModifier, "EBase": .emojiModifierBase,
            "EPres": .emojiPresentation, "Ext": .extender, "Hex": .hexDigit, "IDC": .idContinue,
            "IDS": .idStart, "Ideo": .ideographic, "Join_C": .joinControl, "Lower": .lowercase,
            "NChar": .noncharacterCodePoint, "Pat_Syn": .patternSyntax, "Pat_WS": .patternWhiteSpace,
            "QMark": .quotationMark, "STerm": .sentenceTerminal, "SD": .softDotted,
            "Term": .terminalPunctuation,
            "UIdeo": .unifiedIdeograph, "Upper": .uppercase, "VS": .variationSelector, "space": .whiteSpace,
            "XIDC": .xidContinue, "XIDS": .xidStart,
        ]

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            let properties = scalar.properties
            switch self {
            case .any: return true
            case .ascii: return scalar.isASCII
            case .assigned: return properties.generalCategory != .unassigned
            case .alphabetic: return properties.isAlphabetic
            case .asciiHexDigit: return properties.isASCIIHexDigit
            case .bidiControl: return properties.isBidiControl
            case .bidiMirrored: return properties.isBidiMirrored
            case .cased: return properties.isCased
            case .caseIgnorable: return properties.isCaseIgnorable
            case .dash: return properties.isDash
            case .defaultIgnorableCodePoint: return properties.isDefaultIgnorableCodePoint
            case .deprecated: return properties.isDeprecated
            case .diacritic: return properties.isDiacritic
            case .emoji: return properties.isEmoji
            case .emojiComponent: return Self.isEmojiComponent(scalar)
            case .emojiModifier: return properties.isEmojiModifier
            case .emojiModifierBase: return properties.isEmojiModifierBase
            case .emojiPresentation: return properties.isEmojiPresentation
            case .extender: return properties.isExtender
            case .hexDigit: return properties.isHexDigit
            case .idContinue: return properties.isIDContinue
            case .idStart: return properties.isIDStart
            case .ideographic: return properties.isIdeographic
            case .joinControl: return properties.isJoinControl
            case .lowercase: return properties.isLowercase
            case .math: return properties.isMath
            case .noncharacterCodePoint: return properties.isNoncharacterCodePoint
            case .patternSyntax: return properties.isPatternSyntax
            case .patternWhiteSpace: return properties.isPatternWhitespace
            case .quotationMark: return properties.isQuotationMark
            case .radical: return properties.isRadical
            case .sentenceTerminal: return properties.isSentenceTerminal
            case .softDotted: return properties.isSoftDotted
            case .terminalPunctuation: return properties.isTerminalPunctuation
            case .unifiedIdeograph: return properties.isUnifiedIdeograph
            case .uppercase: return properties.isUppercase
            case .variationSelector: return properties.isVariationSelector
            case .whiteSpace: return properties.isWhitespace
            case .xidContinue: return properties.isXIDContinue
            case .xidStart: return properties.isXIDStart
            }
        }

        /// Emoji_Component as Unicode's emoji-data.txt lists it (the standard library has no accessor).
        private static func isEmojiComponent(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x23, 0x2A, 0x30...0x39, 0x200D, 0x20E3, 0xFE0F, 0x1F1E6...0x1F1FF, 0x1F3FB...0x1F3FF,
                0x1F9B0...0x1F9B3, 0xE0020...0xE007F:
                return true
            default:
                return false
            }
        }
    }

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        switch self {
        case .generalCategories(let categories):
            return categories.contains(scalar.properties.generalCategory)
        case .binary(let binary):
            return binary.contains(scalar)
        }
    }

    /// The property `\p{text}` names, or a sentence saying why there is none.
    static func named(_ text: String) -> Result<PatternUnicodeProperty, PatternSyntaxError.Reason> {
        if let equals = text.firstIndex(of: "=") {
            let name = String(text[..<equals])
            let value = String(text[text.index(after: equals)...])
            switch name {
            case "General_Category", "gc":
                guard let categories = generalCategory(value) else { return .failure(.unknownProperty(text)) }
                return .success(.generalCategories(categories))
            case "Script", "sc", "Script_Extensions", "scx":
                return .failure(.unsupportedProperty(text))
            default:
                return .failure(.unknownProperty(text))
            }
        }
        if let categories = generalCategory(text) { return .success(.generalCategories(categories)) }
        if let binary = Binary(rawValue: text) ?? Binary.aliases[text] { return .success(.binary(binary)) }
        return .failure(.unknownProperty(text))
    }

    /// A General_Category value by its long name or its short alias, as in Unicode's
    /// PropertyValueAliases.txt.
    static func generalCategory(_ name: String) -> [Unicode.GeneralCategory]? {
        switch name {
        case "Lu", "Uppercase_Letter": return [.uppercaseLetter]
        case "Ll", "Lowercase_Letter": return [.lowercaseLetter]
        case "Lt", "Titlecase_Letter": return [.titlecaseLetter]
        case "LC", "Cased_Letter": return [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter]
        case "Lm", "Modifier_Letter": return [.modifierLetter]
        case "Lo", "Other_Letter": return [.otherLetter]
        case "L", "Letter":
            return [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
        case "Mn", "Nonspacing_Mark": return [.nonspacingMark]
        case "Mc", "Spacing_Mark": return [.spacingMark]
        case "Me", "Enclosing_Mark": return [.enclosingMark]
        case "M", "Mark", "Combining_Mark": return [.nonspacingMark, .spacingMark, .enclosingMark]
        case "Nd", "Decimal_Number", "digit": return [.decimalNumber]
        case "Nl", "Letter_Number": return [.letterNumber]
        case "No", "Other_Number": return [.otherNumber]
        case "N", "Number": return [.decimalNumber, .letterNumber, .otherNumber]
        case "Pc", "Connector_Punctuation": return [.connectorPunctuation]
        case "Pd", "Dash_Punctuation": return [.dashPunctuation]
        case "Ps", "Open_Punctuation": return [.openPunctuation]
        case "Pe", "Close_Punctuation": return [.closePunctuation]
        case "Pi", "Initial_Punctuation": return [.initialPunctuation]
        case "Pf", "Final_Punctuation": return [.finalPunctuation]
        case "Po", "Other_Punctuation": return [.otherPunctuation]
        case "P", "Punctuation", "punct":
            return [
                .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation,
            ]
        case "Sm", "Math_Symbol": return [.mathSymbol]
        case "Sc", "Currency_Symbol": return [.currencySymbol]
        case "Sk", "Modifier_Symbol": return [.modifierSymbol]
        case "So", "Other_Symbol": return [.otherSymbol]
        case "S", "Symbol": return [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol]
        case "Zs", "Space_Separator": return [.spaceSeparator]
        case "Zl", "Line_Separator": return [.lineSeparator]
        case "Zp", "Paragraph_Separator": return [.paragraphSeparator]
        case "Z", "Separator": return [.spaceSeparator, .lineSeparator, .paragraphSeparator]
        case "Cc", "Control", "cntrl": return [.control]
        case "Cf", "Format": return [.format]
        case "Cs", "Surrogate": return [.surrogate]
        case "Co", "Private_Use": return [.privateUse]
        case "Cn", "Unassigned": return [.unassigned]
        case "C", "Other": return [.control, .format, .surrogate, .privateUse, .unassigned]
        default: return nil
        }
    }
}
