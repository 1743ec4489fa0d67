"""The milestones a province reports on, as seeded by migration 0004 (kept in step with it)."""

DEFAULT_MILESTONES = [
    {
        "key": "eid_installed",
        "names": {
            "vi": "Đã cài ứng dụng VNeID",
            "en": "E-ID app installed",
            "bn": "ই-আইডি অ্যাপ ইনস্টল করা হয়েছে",
        },
        "skills": ["eid"],
        "modules": ["vneid-basics/get-started"],
    },
    {
        "key": "eid_activated",
        "names": {
            "vi": "Đã kích hoạt đầy đủ tài khoản định danh điện tử",
            "en": "E-ID account fully activated",
            "bn": "ই-আইডি অ্যাকাউন্ট সম্পূর্ণ সক্রিয় করা হয়েছে",
        },
        "skills": ["eid"],
        "modules": ["vneid-basics/use-safely"],
    },
    {
        "key": "first_public_service",
        "names": {
            "vi": "Đã nộp hồ sơ dịch vụ công trực tuyến đầu tiên",
            "en": "First online public-service application filed",
            "bn": "প্রথম অনলাইন সরকারি সেবার আবেদন জমা দেওয়া হয়েছে",
        },
        "skills": ["public_services"],
        "modules": ["online-public-services/submit-and-track"],
    },
    {
        "key": "cashless_setup",
        "names": {
            "vi": "Đã thiết lập thanh toán không dùng tiền mặt",
            "en": "Cashless payment set up",
            "bn": "নগদবিহীন লেনদেন চালু করা হয়েছে",
        },
        "skills": ["cashless"],
        "modules": ["cashless-and-scams/cashless-basics"],
    },
    {
        "key": "online_shop",
        "names": {
            "vi": "Đã mở cửa hàng trực tuyến",
            "en": "Online shop opened",
            "bn": "অনলাইন দোকান খোলা হয়েছে",
        },
        "skills": ["selling_online"],
        "modules": [],
    },
    {
        "key": "scam_briefing",
        "names": {
            "vi": "Đã được phổ biến cách phòng tránh lừa đảo",
            "en": "Scam-safety briefing done",
            "bn": "প্রতারণা থেকে সুরক্ষার বিষয়ে জানানো হয়েছে",
        },
        "skills": ["safety"],
        "modules": ["cashless-and-scams/online-scams"],
    },
]
