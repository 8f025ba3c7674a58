"""The lobby LED screen (一屏通览): CSS, HTML widgets and the Streamlit screen loop."""
