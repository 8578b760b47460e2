public import Foundation

/// The text form of a date on the wire: ISO 8601 in UTC with microseconds,
/// `2026-11-30T19:35:12.123456Z`.
///
/// Foundation's ISO 8601 style writes milliseconds only, which made every stage latency the
/// benchmark reads back from reported times a whole number of milliseconds. Readers accept any
/// number of fractional digits (``WireCoding/decoder()``), so older messages still decode.
public enum WireTimestamp {
    /// Formats `date`, truncated to the microsecond, in the proleptic Gregorian calendar as
    /// ISO 8601 requires (Foundation's parser reads dates before the 1582 reform as Julian;
    /// messages carry current times, so only dates from 1583 are expected to round trip).
    public static func string(from date: Date) -> String {
        var micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000 }
        micros -= fraction
        let seconds = micros / 1_000_000
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilDate(daysSince1970: days)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3_600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2) + "." + pad(fraction, 6) + "Z"
    }

    /// The proleptic Gregorian date of a day count (days since 1970-01-01), after Howard
    /// Hinnant's `civil_from_days`.
    static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
